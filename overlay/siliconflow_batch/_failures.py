"""What a failure says about the request that met it: the one classification every retry rule reads.

The sender's retries, the bodies that are read again (a result stream, a download), a create's lookup, the
waits' patience and a job's line outcomes all ask :func:`of_error`, :func:`of_status` or :func:`of_codes` here,
and ``_retry.Attempts`` is the one budget of tries with backoff that the loops around a request spend.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum

import httpx

from ._exceptions import OVERLOADED_CODE, APIConnectionError, APIResponseValidationError, APIStatusError

__all__ = ["Failure", "may_pass", "of_codes", "of_error", "of_status"]


class Failure(StrEnum):
    """How a failed request stands on the server."""

    NOT_SENT = "not sent"  # it never reached the server: any request may be sent again
    REPEATABLE = "safe to repeat"  # the server did nothing with it for now (429, 503, overloaded): send it again
    AMBIGUOUS = "ambiguous"  # it may have been done (a timeout, a dropped connection, a 5xx): look before repeating
    FINAL = "final"  # sent again, it fails the same way (a 4xx, a 402)


# Failures that happen before the server could have read the request.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
# Codes a failure carries in its body (or a result line its error) that say the work was not done, for now.
_NOT_DONE = frozenset({str(OVERLOADED_CODE), "batch_expired"})


def of_status(status: int | None, code: object = None) -> Failure:
    """A failed HTTP answer (or a result line's status) by its status and the vendor's code in its body."""
    if code is not None and str(code) in _NOT_DONE:
        return Failure.REPEATABLE
    if status in (429, 503):
        return Failure.REPEATABLE
    if status is not None and (status == 408 or (status >= 500 and status != 501)):  # 501: it never will
        return Failure.AMBIGUOUS
    return Failure.FINAL  # 402 among them: trying again cannot top up the account


def of_codes(status: int | None, codes: Iterable[object]) -> Failure:
    """:func:`of_status` where an answer carries several codes (a result line's error, its body, its body's error)."""
    found = of_status(status)
    if any(code is not None and str(code) in _NOT_DONE for code in codes):
        return Failure.REPEATABLE
    return found


def of_error(error: BaseException) -> Failure:
    """A raised failure: an httpx transport error, or one of this package's API errors."""
    if isinstance(error, _NOT_SENT):
        return Failure.NOT_SENT
    if isinstance(error, httpx.TransportError):
        return Failure.AMBIGUOUS
    if isinstance(error, APIStatusError):
        return of_status(error.status_code, error.code)
    if isinstance(error, APIConnectionError):
        return Failure.NOT_SENT if isinstance(error.__cause__, _NOT_SENT) else Failure.AMBIGUOUS
    if isinstance(error, APIResponseValidationError):  # a 2xx whose body could not be read: it was done
        return Failure.AMBIGUOUS
    return Failure.FINAL


def may_pass(error: BaseException) -> bool:
    """Whether the same request may succeed later (any failure but a final one)."""
    return of_error(error) is not Failure.FINAL
