"""Every error shape maps to the right class with a readable message; malformed bodies name the field."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch.testing import VirtualClock

from fakes import KEY, FakeAPI, batch, envelope, make_client, ok, run


@pytest.mark.parametrize(
    ("status", "reply", "cls", "message", "code"),
    [
        (
            400,
            {"json": {"code": 20012, "message": "input_file_id is invalid", "data": ""}},
            sf.BadRequestError,
            "input_file_id is invalid (code 20012)",
            20012,
        ),
        (401, {"json": "Invalid token"}, sf.AuthenticationError, "Invalid token", None),
        (401, {"text": "Invalid token"}, sf.AuthenticationError, "Invalid token", None),
        (403, {"json": "Forbidden"}, sf.PermissionDeniedError, "Forbidden", None),
        (404, {"text": "404 page not found"}, sf.NotFoundError, "404 page not found", None),
        (429, {"content": b""}, sf.RateLimitError, "no error message in the response body", None),
        (500, {"text": "<html>oops</html>"}, sf.InternalServerError, "<html>oops</html>", None),
        (502, {"content": b""}, sf.InternalServerError, "502 Bad Gateway", None),
        (
            503,
            {"json": {"code": 50505, "message": "Model service overloaded. Please try again later.", "data": ""}},
            sf.OverloadedError,
            "Model service overloaded",
            50505,
        ),
        (500, {"json": {"code": 50505, "message": "busy", "data": ""}}, sf.OverloadedError, "busy", 50505),
        (504, {"json": "string"}, sf.GatewayTimeoutError, "string", None),
        (504, {"text": "upstream timed out"}, sf.GatewayTimeoutError, "upstream timed out", None),
        (418, {"json": {"error": {"message": "teapot"}}}, sf.APIStatusError, "teapot", None),
        (400, {"json": [1, 2]}, sf.BadRequestError, "[1,2]", None),
        (400, {"content": b"\xff\xfe not utf-8"}, sf.BadRequestError, "not utf-8", None),
    ],
)
def test_error_bodies_map_to_classes(
    mode: str,
    api: FakeAPI,
    clock: VirtualClock,
    status: int,
    reply: dict[str, Any],
    cls: type,
    message: str,
    code: int | None,
) -> None:
    api.on("GET /batches/batch_1", httpx.Response(status, **reply))
    client = make_client(mode, api, max_retries=0)
    with pytest.raises(cls) as caught:
        run(client.batches.retrieve("batch_1"))
    error = caught.value
    assert type(error) is cls
    assert isinstance(error, sf.APIStatusError)
    assert error.status_code == status
    assert error.code == code
    assert message in str(error)
    assert str(error).startswith(f"GET https://api.test/v1/batches/batch_1: {status}")
    assert error.response.status_code == status


def test_hierarchy_matches_openai() -> None:
    assert issubclass(sf.APIStatusError, sf.APIError)
    assert issubclass(sf.APIError, sf.SiliconFlowError)
    assert issubclass(sf.OverloadedError, sf.InternalServerError)
    assert issubclass(sf.GatewayTimeoutError, sf.InternalServerError)
    assert issubclass(sf.APITimeoutError, sf.APIConnectionError)
    assert issubclass(sf.APIResponseValidationError, sf.APIError)
    assert issubclass(sf.InputValidationError, ValueError)


def test_envelope_with_status_false_is_an_error(mode: str, api: FakeAPI, tmp_path: Any) -> None:
    api.on("GET /files", envelope(None, status=False, code=20015, message="purpose is invalid"))
    client = make_client(mode, api)
    with pytest.raises(sf.EnvelopeError, match=r"purpose is invalid \(code 20015\)") as caught:
        run(client.files.list())
    assert caught.value.code == 20015
    assert len(api.requests) == 1  # not retried: the server answered


@pytest.mark.parametrize(
    ("body", "field", "message"),
    [
        ({k: v for k, v in batch().items() if k != "id"}, "id", "required field is missing"),
        (batch(id=5), "id", "expected str, got int"),
        (batch(status=7), "status", "expected str, got int 7"),
        ([batch()], None, "expected an object, got list"),
    ],
)
def test_a_batch_whose_essential_field_does_not_fit_raises_naming_it(
    mode: str, api: FakeAPI, body: Any, field: str | None, message: str
) -> None:
    api.on("GET /batches/batch_1", ok(body))
    client = make_client(mode, api)
    with pytest.raises(sf.APIResponseValidationError) as caught:
        run(client.batches.retrieve("batch_1"))
    assert caught.value.field == field
    assert message in str(caught.value)
    if field:
        assert f"field {field!r}" in str(caught.value)


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("created_at", "yesterday"),
        ("created_at", True),
        ("in_progress_at", "soon"),
        ("request_counts", {"total": "two"}),
        ("errors", "all broken"),
        ("errors", [1]),
        ("errors", [{"code": "invalid_json", "message": "Bad line", "param": None, "line": 3}]),  # Groq's shape
        ("metadata", {"k": 1}),
        ("expires_at", [1, 2]),
        ("endpoint", {"path": "/v1/chat/completions"}),
    ],
)
def test_a_non_essential_field_of_an_unexpected_shape_keeps_its_raw_value_and_warns_once(
    mode: str, api: FakeAPI, caplog: pytest.LogCaptureFixture, name: str, value: Any
) -> None:
    from siliconflow_batch_generated import checks

    checks._WARNED.clear()  # warned once per process: start this case afresh
    api.on("GET /batches/batch_1", ok(batch(**{name: value})))
    client = make_client(mode, api)
    with caplog.at_level(logging.WARNING, logger="siliconflow_batch"):
        first = run(client.batches.retrieve("batch_1"))
        second = run(client.batches.retrieve("batch_1"))
    for parsed in (first, second):
        assert parsed.to_dict()[name] == value  # raw where it did not fit (inside a nested object: only there)
        assert parsed.id == "batch_1"
        assert parsed.status == "in_queue"
    warnings = [r.getMessage() for r in caplog.records if "has an unexpected shape" in r.getMessage()]
    assert len(warnings) == 1
    inner = {"request_counts": "BatchRequestCounts.total", "metadata": "BatchMetadata.k"}  # the odd field itself
    assert warnings[0].startswith(inner.get(name, f"Batch.{name}") + " has")


def test_one_odd_item_does_not_sink_a_page(mode: str, api: FakeAPI) -> None:
    page = {
        "object": "list",
        "data": [batch(id="b1"), batch(id="b2", created_at="2025-03-11T09:30:13Z", request_counts=[1, 2])],
        "first_id": "b1",
        "last_id": "b2",
        "has_more": False,
    }
    api.on("GET /batches", ok(page))
    client = make_client(mode, api)
    batches = run(client.batches.list())
    assert [b.id for b in batches] == ["b1", "b2"]
    assert batches[1].created_at == 1741685413  # a time as text is read as the second it names
    assert batches[1].counts == (0, 0, 0)


@pytest.mark.parametrize("content", [b"", b"{not json", b"\xff\xfe", b"null", b'"batch"'])
def test_non_object_bodies_raise_validation_errors(mode: str, api: FakeAPI, content: bytes) -> None:
    api.on("GET /batches/batch_1", httpx.Response(200, content=content))
    with pytest.raises(sf.APIResponseValidationError, match=r"GET https://api\.test/v1/batches/batch_1"):
        run(make_client(mode, api).batches.retrieve("batch_1"))


def test_malformed_list_item_names_its_index(mode: str, api: FakeAPI) -> None:
    api.on("GET /batches", ok({"object": "list", "data": [batch(), batch(id="b2", status=None)], "has_more": False}))
    with pytest.raises(sf.APIResponseValidationError) as caught:
        run(make_client(mode, api).batches.list())
    assert caught.value.field == "data[1].status"


@pytest.mark.parametrize("items", [[batch(), "b2"], [None, batch()], [batch(), [batch()]]], ids=["str", "null", "list"])
def test_a_list_item_that_is_no_object_names_its_index(mode: str, api: FakeAPI, items: list[Any]) -> None:
    api.on("GET /batches", ok({"object": "list", "data": items, "has_more": False}))
    with pytest.raises(sf.APIResponseValidationError, match="expected an object") as caught:
        run(make_client(mode, api).batches.list())
    assert caught.value.field == f"data[{next(i for i, x in enumerate(items) if type(x) is not dict)}]"


def test_envelope_without_data_is_a_validation_error(mode: str, api: FakeAPI, tmp_path: Any) -> None:
    path = tmp_path / "r.jsonl"
    path.write_text(
        '{"custom_id":"a","method":"POST","url":"/v1/chat/completions",'
        '"body":{"model":"m","messages":[{"role":"user","content":"x"}]}}\n'
    )
    api.on("POST /files", ok({"code": 20000, "message": "Ok", "status": True}))
    with pytest.raises(sf.APIResponseValidationError, match="field 'data' missing"):
        run(make_client(mode, api).files.upload(path))


def test_the_key_is_in_no_repr_message_or_log(
    mode: str, api: FakeAPI, clock: VirtualClock, caplog: pytest.LogCaptureFixture
) -> None:
    api.on("GET /batches/batch_1", httpx.Response(503, json={"code": 50505, "message": "busy"}))
    client = make_client(mode, api, max_retries=1)
    caplog.set_level(logging.DEBUG, logger="siliconflow_batch")
    with pytest.raises(sf.OverloadedError) as caught:
        run(client.batches.retrieve("batch_1"))
    texts = [repr(client), str(client), str(caught.value), repr(caught.value), caplog.text]
    assert all(KEY not in text for text in texts)
    assert "GET https://api.test/v1/batches/batch_1 -> 503" in caplog.text
    assert "retrying GET /batches/batch_1 after 503" in caplog.text
    assert api.requests[0].headers["authorization"] == f"Bearer {KEY}"
