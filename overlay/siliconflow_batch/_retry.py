"""When to retry a request and how long to wait first.

Hand-written rather than tenacity: the decision depends on this API (which failures prove the server did
nothing, so that a create or an upload may be sent again) and the whole policy is a few small functions,
which a run-time dependency would not shorten.
"""

from __future__ import annotations

import email.utils
import math
import random
import time

import httpx

from ._exceptions import error_code
from ._failures import Failure, may_pass, of_error, of_status

__all__ = ["INITIAL_DELAY", "MAX_DELAY", "MAX_RETRY_AFTER", "Attempts", "backoff_delay", "retry_after", "should_retry"]

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0


def _seconds(value: str, scale: float) -> float | None:
    try:
        seconds = float(value) / scale
    except ValueError:
        return None
    return max(seconds, 0.0) if math.isfinite(seconds) else None  # nan and inf are ignored, negatives are 0


def retry_after(headers: httpx.Headers, *, now: float | None = None) -> float | None:
    """Seconds the server asks us to wait (``retry-after-ms``, or Retry-After in seconds or as an HTTP date).

    None when the header is absent or unusable (``nan``, ``inf``, garbage); never negative. Callers cap it.
    """
    value = headers.get("retry-after-ms")
    if value is not None and (seconds := _seconds(value, 1000.0)) is not None:
        return seconds
    value = headers.get("retry-after")
    if value is None:
        return None
    if (seconds := _seconds(value, 1.0)) is not None:
        return seconds
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(when.timestamp() - (time.time() if now is None else now), 0.0)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None


def backoff_delay(retries_done: int, headers: httpx.Headers | None = None) -> float:
    """Delay before retry number ``retries_done + 1``: the server's Retry-After (capped), else backoff."""
    if headers is not None:
        asked = retry_after(headers)
        if asked is not None:
            return min(asked, MAX_RETRY_AFTER)
    delay = min(INITIAL_DELAY * 2.0**retries_done, MAX_DELAY)
    return delay * (1.0 - 0.25 * random.random())  # jitter spreads clients that failed together


def should_retry(*, idempotent: bool, response: httpx.Response | None = None, error: Exception | None = None) -> bool:
    """Whether a failed attempt may be sent again, by the one classification of failures (``_failures``).

    A request that is not idempotent (create, upload) is retried only when the failure proves the server
    did nothing with it: a 429, a 503 or the overloaded code 50505, or a connection that never opened.
    A read timeout, a dropped connection or a 504 may hide a batch that was created: not retried.
    A 402 (no balance to pay with) is never retried, whatever the request or an ``x-should-retry`` header says:
    trying again cannot top up the account.
    """
    if error is not None:
        failure = of_error(error)
        if not isinstance(error, httpx.TransportError) and failure is not Failure.NOT_SENT:
            return False  # a bug, or a body that could not be decoded: the same again
    elif response is None or response.status_code == 402:
        return False
    else:
        failure = of_status(response.status_code, _server_code(response))
        override = response.headers.get("x-should-retry")
        if override in ("true", "false"):
            return override == "true" and (idempotent or failure is Failure.REPEATABLE)
    if idempotent:
        return failure is not Failure.FINAL
    return failure in (Failure.NOT_SENT, Failure.REPEATABLE)


def _server_code(response: httpx.Response) -> object:
    """The vendor's code in a 5xx body (its overloaded code: busy, nothing done), read as errors read it; else None."""
    if response.status_code < 500:
        return None
    try:
        return error_code(response)
    except httpx.ResponseNotRead:
        return None


class Attempts:
    """The tries left to a loop around a request, and the backoff before each: one budget, ``max_retries`` deep."""

    def __init__(self, max_retries: int) -> None:
        self.max_retries = max_retries
        self.failures = 0

    def next_delay(self) -> float | None:
        """Count a failure; the seconds to wait before the next try, or None once the budget is spent."""
        self.failures += 1
        if self.failures > self.max_retries:
            return None
        return backoff_delay(self.failures - 1)

    def delay_after(self, error: BaseException) -> float | None:
        """Count ``error``; the seconds before the next try, or None when it is final (``_failures``) or none is left.

        What a loop around a body read asks (a result stream, a download): only a failure that may pass
        (a dropped connection, a read timeout) is worth the same GET again.
        """
        delay = self.next_delay()
        return delay if may_pass(error) else None
