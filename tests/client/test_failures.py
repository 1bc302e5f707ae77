"""The one classification of failures (``_failures``) that the sender, the waits, the creates and the jobs read."""

from __future__ import annotations

import httpx
import pytest

from siliconflow_batch._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    make_status_error,
)
from siliconflow_batch._failures import Failure, may_pass, of_codes, of_error, of_status
from siliconflow_batch._retry import Attempts

REQUEST = httpx.Request("GET", "http://127.0.0.1/v1/batches")


@pytest.mark.parametrize(
    ("status", "code", "failure"),
    [
        (429, None, Failure.REPEATABLE),
        (503, None, Failure.REPEATABLE),
        (500, 50505, Failure.REPEATABLE),  # the vendor's "overloaded": nothing was done
        (400, "batch_expired", Failure.REPEATABLE),
        (None, "batch_expired", Failure.REPEATABLE),
        (408, None, Failure.AMBIGUOUS),
        (500, None, Failure.AMBIGUOUS),
        (502, None, Failure.AMBIGUOUS),
        (504, None, Failure.AMBIGUOUS),
        (501, None, Failure.FINAL),
        (400, None, Failure.FINAL),
        (402, None, Failure.FINAL),
        (404, None, Failure.FINAL),
        (None, None, Failure.FINAL),
    ],
)
def test_each_status_and_code_has_one_class(status: int | None, code: object, failure: Failure) -> None:
    assert of_status(status, code) is failure


def test_any_of_several_codes_that_says_not_done_makes_it_repeatable() -> None:
    assert of_codes(400, ("invalid", None, "50505")) is Failure.REPEATABLE
    assert of_codes(400, ("invalid", None)) is Failure.FINAL
    assert of_codes(500, ()) is Failure.AMBIGUOUS


def _api_error(status: int, body: bytes = b"{}") -> APIError:
    return make_status_error(httpx.Response(status, content=body, request=REQUEST))


@pytest.mark.parametrize(
    ("error", "failure"),
    [
        (httpx.ConnectError("refused", request=REQUEST), Failure.NOT_SENT),
        (httpx.PoolTimeout("busy", request=REQUEST), Failure.NOT_SENT),
        (httpx.ReadTimeout("slow", request=REQUEST), Failure.AMBIGUOUS),
        (httpx.RemoteProtocolError("gone", request=REQUEST), Failure.AMBIGUOUS),
        (APIConnectionError("dropped", request=REQUEST), Failure.AMBIGUOUS),
        (APIResponseValidationError("unreadable", response=httpx.Response(200, request=REQUEST)), Failure.AMBIGUOUS),
        (ValueError("a bug"), Failure.FINAL),
    ],
)
def test_each_raised_failure_has_one_class(error: BaseException, failure: Failure) -> None:
    assert of_error(error) is failure


def test_an_api_error_is_classed_by_its_status_and_code() -> None:
    assert of_error(_api_error(429)) is Failure.REPEATABLE
    assert of_error(_api_error(500, b'{"code": 50505, "message": "busy"}')) is Failure.REPEATABLE
    assert of_error(_api_error(504)) is Failure.AMBIGUOUS
    assert of_error(_api_error(400)) is Failure.FINAL
    assert not may_pass(_api_error(402))
    assert may_pass(_api_error(503))


def test_a_connection_error_caused_by_a_refused_connect_was_not_sent() -> None:
    error = APIConnectionError("refused", request=REQUEST)
    error.__cause__ = httpx.ConnectError("refused", request=REQUEST)
    assert of_error(error) is Failure.NOT_SENT


def test_attempts_give_max_retries_delays_then_none() -> None:
    attempts = Attempts(2)
    delays = [attempts.next_delay(), attempts.next_delay(), attempts.next_delay()]
    assert [d is not None and d > 0 for d in delays] == [True, True, False]
    assert attempts.failures == 3
    assert Attempts(0).next_delay() is None
