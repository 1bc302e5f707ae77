"""The client's retry decisions (``should_retry``), one row per rule, so a change to any rule fails the row naming it.

Idempotent requests (reads, cancels) are retried on 408, 429 and 5xx but 501, and on any transport error. A
create or an upload only when the failure proves the server did nothing: 429, 503, the overloaded code 50505, or
a connection that never opened. ``x-should-retry`` overrides the status, but never makes a create unsafe. A 402
is never retried.
"""

from __future__ import annotations

import httpx
import pytest

from siliconflow_batch._retry import should_retry

OVERLOADED = b'{"code": 50505, "message": "Model service overloaded.", "data": ""}'
REQUEST = httpx.Request("POST", "https://api.example/v1/batches")


def _response(status: int, *, should: str | None = None, body: bytes = b"{}") -> httpx.Response:
    headers = {"x-should-retry": should} if should is not None else {}
    return httpx.Response(status, headers=headers, content=body)


# (id naming the rule, idempotent, status, x-should-retry, body, retried)
STATUSES: list[tuple[str, bool, int, str | None, bytes, bool]] = [
    ("idempotent 408: retried", True, 408, None, b"{}", True),
    ("idempotent 429: retried", True, 429, None, b"{}", True),
    ("idempotent 500: retried", True, 500, None, b"{}", True),
    ("idempotent 502: retried", True, 502, None, b"{}", True),
    ("idempotent 503: retried", True, 503, None, b"{}", True),
    ("idempotent 504: retried", True, 504, None, b"{}", True),
    ("idempotent 501 (not implemented): not retried", True, 501, None, b"{}", False),
    ("idempotent 400: not retried", True, 400, None, b"{}", False),
    ("idempotent 401: not retried", True, 401, None, b"{}", False),
    ("idempotent 404: not retried", True, 404, None, b"{}", False),
    ("idempotent 409: not retried", True, 409, None, b"{}", False),
    ("idempotent 200: not retried", True, 200, None, b"{}", False),
    ("create 429 (nothing done): retried", False, 429, None, b"{}", True),
    ("create 503 (nothing done): retried", False, 503, None, b"{}", True),
    ("create 500 with code 50505: retried", False, 500, None, OVERLOADED, True),
    ("create 502 with code 50505: retried", False, 502, None, OVERLOADED, True),
    ("create 400 with code 50505 (a 4xx): not retried", False, 400, None, OVERLOADED, False),
    ("create 500 (may have been made): not retried", False, 500, None, b"{}", False),
    ("create 502: not retried", False, 502, None, b"{}", False),
    ("create 504 (may have been made): not retried", False, 504, None, b"{}", False),
    ("create 408: not retried", False, 408, None, b"{}", False),
    ("create 400: not retried", False, 400, None, b"{}", False),
    ("idempotent 402: never retried", True, 402, None, b"{}", False),
    ("create 402: never retried", False, 402, None, b"{}", False),
    ("idempotent 402 with x-should-retry true: never retried", True, 402, "true", b"{}", False),
    ("create 402 with x-should-retry true: never retried", False, 402, "true", b"{}", False),
    ("idempotent 400 with x-should-retry true: retried", True, 400, "true", b"{}", True),
    ("idempotent 503 with x-should-retry false: not retried", True, 503, "false", b"{}", False),
    ("create 429 with x-should-retry true: retried", False, 429, "true", b"{}", True),
    ("create 503 with x-should-retry true: retried", False, 503, "true", b"{}", True),
    ("create 500 with x-should-retry true: still not retried", False, 500, "true", b"{}", False),
    ("create 400 with x-should-retry true: still not retried", False, 400, "true", b"{}", False),
    ("create 429 with x-should-retry false: not retried", False, 429, "false", b"{}", False),
    ("create 500 50505 with x-should-retry false: not retried", False, 500, "false", OVERLOADED, False),
    ("idempotent 503 with x-should-retry maybe: the status decides", True, 503, "maybe", b"{}", True),
    ("idempotent 400 with x-should-retry maybe: the status decides", True, 400, "maybe", b"{}", False),
]


@pytest.mark.parametrize(
    ("idempotent", "status", "should", "body", "retried"),
    [pytest.param(*row[1:], id=row[0]) for row in STATUSES],
)
def test_each_response_is_retried_as_its_rule_says(
    idempotent: bool, status: int, should: str | None, body: bytes, retried: bool
) -> None:
    assert should_retry(idempotent=idempotent, response=_response(status, should=should, body=body)) is retried


# (id naming the rule, error, idempotent, retried)
ERRORS: list[tuple[str, Exception, bool, bool]] = [
    ("connection refused, idempotent: retried", httpx.ConnectError("refused", request=REQUEST), True, True),
    ("connection refused, create: retried (never sent)", httpx.ConnectError("refused", request=REQUEST), False, True),
    ("connect timeout, create: retried (never sent)", httpx.ConnectTimeout("slow", request=REQUEST), False, True),
    ("pool timeout, create: retried (never sent)", httpx.PoolTimeout("busy", request=REQUEST), False, True),
    ("read timeout, idempotent: retried", httpx.ReadTimeout("slow", request=REQUEST), True, True),
    ("read timeout, create: not retried (may be made)", httpx.ReadTimeout("slow", request=REQUEST), False, False),
    ("write timeout, create: not retried", httpx.WriteTimeout("slow", request=REQUEST), False, False),
    ("dropped connection, idempotent: retried", httpx.RemoteProtocolError("gone", request=REQUEST), True, True),
    ("dropped connection, create: not retried", httpx.RemoteProtocolError("gone", request=REQUEST), False, False),
    ("read error, idempotent: retried", httpx.ReadError("reset", request=REQUEST), True, True),
    ("read error, create: not retried", httpx.ReadError("reset", request=REQUEST), False, False),
    ("not a transport error, idempotent: not retried", ValueError("a bug"), True, False),
    (
        "an undecodable body (not transport), idempotent: not retried",
        httpx.DecodingError("x", request=REQUEST),
        True,
        False,
    ),
]


@pytest.mark.parametrize(("error", "idempotent", "retried"), [pytest.param(*row[1:], id=row[0]) for row in ERRORS])
def test_each_transport_error_is_retried_as_its_rule_says(error: Exception, idempotent: bool, retried: bool) -> None:
    assert should_retry(idempotent=idempotent, error=error) is retried


@pytest.mark.parametrize("idempotent", [True, False], ids=["idempotent", "create"])
def test_no_response_and_no_error_is_not_retried(idempotent: bool) -> None:
    assert should_retry(idempotent=idempotent) is False
