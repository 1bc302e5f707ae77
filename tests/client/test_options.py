"""Per-call options reach the wire; with_options shares the pool and leaves the original alone; SILICONFLOW_LOG."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

import siliconflow_batch as sf

from fakes import BASE, KEY, FakeAPI, batch, body_json, make_client, ok, run, stream


@pytest.fixture
def api() -> FakeAPI:
    """A scripted API that lets through the extras these tests send on purpose (they are not in the spec)."""
    return FakeAPI(check_spec=False)


def test_per_call_options_reach_the_wire(mode: str, api: FakeAPI) -> None:
    api.on("POST /batches", ok(batch()))
    client = make_client(mode, api)
    run(
        client.batches.create(
            input_file_id="file-in",
            timeout=7.5,
            extra_headers={"X-Trace": "t-1"},
            extra_query={"region": "cn"},
            extra_body={"priority_hint": 3, "metadata": {"added": "yes"}},
        )
    )
    (request,) = api.requests
    assert request.headers["x-trace"] == "t-1"
    assert request.url.params["region"] == "cn"
    assert request.extensions["timeout"] == {"connect": 7.5, "read": 7.5, "write": 7.5, "pool": 7.5}
    sent = body_json(request)
    assert sent["priority_hint"] == 3
    assert sent["input_file_id"] == "file-in"  # deep-merged, not replaced


def test_extra_body_deep_merges_into_nested_objects(mode: str, api: FakeAPI) -> None:
    api.on("POST /batches", ok(batch()))
    run(
        make_client(mode, api).batches.create(
            input_file_id="f", metadata={"a": "1"}, extra_body={"metadata": {"b": "2"}}
        )
    )
    metadata = body_json(api.requests[0])["metadata"]
    assert metadata.pop("idempotency_key").startswith("sfb-")
    assert metadata == {"a": "1", "b": "2"}


def test_every_request_of_a_multi_request_call_gets_them(mode: str, api: FakeAPI) -> None:
    api.on("GET /batches/batch_1", ok(batch(status="completed", output_file_id="out")))
    api.on("GET /files/out/content", stream([b'{"custom_id": "a", "response": null}\n']))
    results = run(make_client(mode, api).batches.results("batch_1", extra_headers={"X-Trace": "t-2"}))
    assert [r.custom_id for r in results] == ["a"]
    assert [r.headers.get("x-trace") for r in api.requests] == ["t-2", "t-2"]


def test_waits_take_the_options_too(mode: str, api: FakeAPI, clock: object) -> None:
    api.on("GET /batches/batch_1", ok(batch(status="completed")))
    run(make_client(mode, api).batches.wait("batch_1", timeout=60, extra_query={"debug": "1"}))
    assert api.requests[0].url.params["debug"] == "1"


@pytest.mark.parametrize("name", ["Authorization", "authorization", "AUTHORIZATION"])
def test_the_key_cannot_be_set_through_extra_headers(mode: str, api: FakeAPI, name: str) -> None:
    client = make_client(mode, api)
    url = "https://other.example.com/out.jsonl"
    with pytest.raises(sf.InputValidationError, match="extra_headers: may not set Authorization"):
        run(client.files.download(url, Path("/tmp/never-written"), extra_headers={name: f"Bearer {KEY}"}))
    assert api.requests == []


def test_extra_body_on_a_get_is_refused_before_sending(mode: str, api: FakeAPI) -> None:
    with pytest.raises(sf.InputValidationError, match="extra_body"):
        run(make_client(mode, api).batches.retrieve("batch_1", extra_body={"x": 1}))
    assert api.requests == []


def test_with_options_shares_the_pool_and_leaves_the_original_unchanged(mode: str, api: FakeAPI) -> None:
    api.on("GET /batches/batch_1", httpx.Response(503), ok(batch()))
    client = make_client(mode, api, max_retries=0)
    patient = client.with_options(timeout=3, max_retries=1)
    assert patient._sender.client is client._sender.client  # one connection pool
    assert (patient.max_retries, patient.timeout.read) == (1, 3)
    assert (client.max_retries, client.timeout.read) == (0, sf.DEFAULT_TIMEOUT.read)
    assert patient.base_url == client.base_url == BASE
    assert run(patient.batches.retrieve("batch_1")).id == "batch_1"  # retried once
    assert api.requests[-1].headers["authorization"] == f"Bearer {KEY}"
    run(patient.close())  # the copy does not close the shared pool
    assert not client._sender.client.is_closed


def test_siliconflow_log_turns_logging_on_without_code() -> None:
    code = (
        "import httpx, siliconflow_batch as sf\n"
        "body = {'object': 'list', 'data': [], 'first_id': None, 'last_id': None, 'has_more': False}\n"
        "t = httpx.MockTransport(lambda r: httpx.Response(200, json=body))\n"
        "list(sf.SiliconFlow(api_key='sk-SECRET', base_url='http://x/v1', http_client=httpx.Client(transport=t))"
        ".batches.list())\n"
    )
    for level, shown in (("debug", True), ("", False)):
        env = {**os.environ, "SILICONFLOW_LOG": level}
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=60)
        assert result.returncode == 0, result.stderr
        assert ("GET http://x/v1/batches -> 200" in result.stderr) is shown
        assert "SECRET" not in result.stderr
