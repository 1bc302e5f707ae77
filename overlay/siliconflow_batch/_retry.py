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

from ._exceptions import OVERLOADED_CODE

__all__ = ["INITIAL_DELAY", "MAX_DELAY", "MAX_RETRY_AFTER", "backoff_delay", "retry_after", "should_retry"]

INITIAL_DELAY = 0.5
MAX_DELAY = 8.0
MAX_RETRY_AFTER = 60.0

# Statuses worth another try for a request that is safe to repeat (a read, or a cancel).
_RETRY_STATUSES = frozenset({408, 429, 500, 502, 503, 504})
# Failures that happen before the server could have read the request: safe even for a create or an upload.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


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
    """Whether a failed attempt may be sent again.

    A request that is not idempotent (create, upload) is retried only when the failure proves the server
    did nothing with it: a 429, a 503 or the overloaded code 50505, or a connection that never opened.
    A read timeout, a dropped connection or a 504 may hide a batch that was created: not retried.
    A 402 (no balance to pay with) is never retried, whatever the request or an ``x-should-retry`` header says:
    trying again cannot top up the account.
    """
    if error is not None:
        if isinstance(error, _NOT_SENT):
            return True
        return idempotent and isinstance(error, httpx.TransportError)
    if response is None or response.status_code == 402:
        return False
    override = response.headers.get("x-should-retry")
    if override in ("true", "false"):
        return override == "true" and (idempotent or response.status_code in (429, 503))
    if idempotent:
        return response.status_code in _RETRY_STATUSES
    return response.status_code in (429, 503) or _is_overloaded(response)


def _is_overloaded(response: httpx.Response) -> bool:
    if response.status_code < 500:
        return False
    try:
        return f'"code":{OVERLOADED_CODE}' in response.content.decode("utf-8", "replace").replace(" ", "")
    except httpx.ResponseNotRead:
        return False
