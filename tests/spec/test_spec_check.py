"""The spec checker used by the fakes and the emulator tests can fail."""

from __future__ import annotations

import httpx
import pytest

from spec_check import SpecViolation, check_request, check_response

BASE = "https://api.test/v1"


@pytest.mark.parametrize(
    ("request_", "message"),
    [
        (httpx.Request("GET", f"{BASE}/files"), "required query parameter 'purpose' is missing"),
        (httpx.Request("GET", f"{BASE}/files?purpose=batch&limit=0"), "query parameter limit='0'"),
        (httpx.Request("GET", f"{BASE}/batches?page=2"), "query parameter 'page' is not in the spec"),
        (httpx.Request("DELETE", f"{BASE}/batches/b1"), "is not an operation of the spec"),
        (
            httpx.Request(
                "POST",
                f"{BASE}/batches",
                json={"input_file_id": "f", "endpoint": "/v1/chat/completions", "completion_window": "1h"},
            ),
            "body:",
        ),
        (
            httpx.Request("POST", f"{BASE}/batches", content=b"x", headers={"content-type": "text/plain"}),
            "content type 'text/plain'",
        ),
        (httpx.Request("POST", f"{BASE}/files", files={"file": ("r.jsonl", b"{}")}), "body:"),
    ],
)
def test_requests_the_spec_forbids(request_: httpx.Request, message: str) -> None:
    with pytest.raises(SpecViolation, match=message.replace("?", r"\?")):
        check_request(request_)


def test_a_request_the_spec_allows() -> None:
    check_request(httpx.Request("GET", f"{BASE}/batches?limit=5&after=b2"))
    check_request(httpx.Request("GET", "https://cdn.test/out.jsonl"))  # off the API: not checked


@pytest.mark.parametrize(
    ("status", "kwargs", "message"),
    [
        (418, {"text": "teapot"}, "status not documented"),
        (404, {"json": "404 page not found"}, "application/json is not one of"),
        (200, {"json": {"id": "b"}}, "'object' is a required property"),
    ],
)
def test_responses_the_spec_forbids(status: int, kwargs: dict[str, object], message: str) -> None:
    request = httpx.Request("GET", f"{BASE}/batches/b1")
    with pytest.raises(SpecViolation, match=message):
        check_response(httpx.Response(status, request=request, **kwargs))  # type: ignore[arg-type]
