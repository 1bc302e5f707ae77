"""Client configuration, models' helpers, and every documented example through the public API."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch import AsyncSiliconFlow, SiliconFlow

from fakes import BASE, KEY, Client, FakeAPI, batch, envelope, make_client, ok, run, stream
from helpers import FRAGMENTS, GET_PAGE_BODY, TOKEN360_BODY, synthesize_example
from spec_fragments import load_fragment


def test_key_and_base_url_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SILICONFLOW_API_KEY", KEY)
    monkeypatch.setenv("SILICONFLOW_BASE_URL", "http://127.0.0.1:9/v1/")
    with SiliconFlow() as client:
        assert client.base_url == "http://127.0.0.1:9/v1"
        assert client.max_retries == 2
        assert client.timeout == sf.DEFAULT_TIMEOUT


def test_arguments_win_over_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SILICONFLOW_BASE_URL", "http://env.test/v1")
    with SiliconFlow(api_key=KEY, base_url=BASE, timeout=5.0, max_retries=0) as client:
        assert client.base_url == BASE
        assert client.timeout == httpx.Timeout(5.0)
        assert client.max_retries == 0


def test_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SILICONFLOW_BASE_URL", raising=False)
    assert SiliconFlow(api_key=KEY).base_url == "https://api.siliconflow.cn/v1"


def test_missing_key_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SILICONFLOW_API_KEY", raising=False)
    with pytest.raises(sf.SiliconFlowError, match="SILICONFLOW_API_KEY"):
        SiliconFlow()
    with pytest.raises(sf.SiliconFlowError, match="SILICONFLOW_API_KEY"):
        AsyncSiliconFlow()


def test_bad_base_url_is_refused() -> None:
    with pytest.raises(sf.SiliconFlowError, match="must start with http"):
        SiliconFlow(api_key=KEY, base_url="api.siliconflow.cn/v1")


def test_repr_is_useful_and_secret_free() -> None:
    for client in (SiliconFlow(api_key=KEY, base_url=BASE), AsyncSiliconFlow(api_key=KEY, base_url=BASE)):
        text = repr(client)
        assert text.startswith(type(client).__name__ + "(base_url='https://api.test/v1', max_retries=2")
        assert KEY not in text


def test_context_managers_close_their_own_client_only() -> None:
    with SiliconFlow(api_key=KEY) as owned:
        pass
    assert owned._sender.client.is_closed
    mine = httpx.Client()
    with SiliconFlow(api_key=KEY, http_client=mine):
        pass
    assert not mine.is_closed

    async def async_case() -> tuple[bool, bool]:
        async with AsyncSiliconFlow(api_key=KEY) as client:
            pass
        theirs = httpx.AsyncClient()
        async with AsyncSiliconFlow(api_key=KEY, http_client=theirs):
            pass
        return client._sender.client.is_closed, theirs.is_closed

    assert asyncio.run(async_case()) == (True, False)


def test_requests_carry_user_agent_and_key(mode: str, api: FakeAPI) -> None:
    api.on("GET /batches/batch_1", ok(batch()))
    run(make_client(mode, api).batches.retrieve("batch_1"))
    headers = api.requests[0].headers
    assert headers["authorization"] == f"Bearer {KEY}"
    assert headers["user-agent"].startswith(f"siliconflow-batch/{sf.__version__} ")


def test_the_clients_own_http_client_sends_what_a_passed_one_does(mode: str, api: FakeAPI, tmp_path: Path) -> None:
    # The httpx client a client makes carries our User-Agent and Accept itself (they are not merged per request):
    # the requests are the same as through a client passed in, whose own headers lose to ours.
    url = "https://results.cdn.test/out/batch_1.jsonl?sig=abc"
    api.on("GET /batches/batch_1", ok(batch()), ok(batch()), ok(batch()))
    api.on(f"GET {url}", stream([b"{}\n"]))
    transport = httpx.MockTransport(api)
    own: Client = (
        SiliconFlow(api_key=KEY, base_url=BASE) if mode == "sync" else AsyncSiliconFlow(api_key=KEY, base_url=BASE)
    )
    own._sender.client._transport = transport
    own._sender.client._mounts = {}
    passed: Client = (
        SiliconFlow(
            api_key=KEY, base_url=BASE, http_client=httpx.Client(transport=transport, headers={"Accept": "x/y"})
        )
        if mode == "sync"
        else AsyncSiliconFlow(
            api_key=KEY, base_url=BASE, http_client=httpx.AsyncClient(transport=transport, headers={"Accept": "x/y"})
        )
    )
    for client in (own, passed, own.with_options(max_retries=0)):
        run(client.batches.retrieve("batch_1"))
    run(own.batches.retrieve("batch_1", extra_headers={"User-Agent": "mine"}))
    run(own.files.download(url, tmp_path / "out.jsonl"))
    *retrieves, mine, download = api.requests
    wanted = {"authorization": f"Bearer {KEY}", "accept": "application/json, text/plain;q=0.9"}
    for request in retrieves:
        assert {name: request.headers[name] for name in wanted} == wanted
        assert request.headers.get_list("user-agent") == [
            f"siliconflow-batch/{sf.__version__} python-httpx/{httpx.__version__}"
        ]
    assert mine.headers.get_list("user-agent") == ["mine"]
    assert "authorization" not in download.headers  # the key never leaves base_url's host
    assert download.headers["accept"] == "*/*"
    assert download.headers["user-agent"].startswith("siliconflow-batch/")


def test_the_urls_a_sender_keeps_are_bounded_and_each_request_gets_its_own() -> None:
    paths: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return ok(batch(id=request.url.path.rsplit("/", 1)[1]))

    with SiliconFlow(
        api_key=KEY, base_url=BASE, http_client=httpx.Client(transport=httpx.MockTransport(answer))
    ) as client:
        ids = [f"batch_{i % 300}" for i in range(600)]
        assert [client.batches.retrieve(i).id for i in ids] == ids
        assert len(client._sender._urls) <= 256
    assert paths == [f"/v1/batches/{i}" for i in ids]


def test_cancel_posts_to_the_cancel_route(mode: str, api: FakeAPI) -> None:
    api.on("POST /batches/batch_1/cancel", ok(batch(status="cancelling")))
    assert run(make_client(mode, api).batches.cancel("batch_1")).status == sf.BatchStatus.CANCELLING


def test_ids_are_escaped_in_paths(mode: str, api: FakeAPI) -> None:
    with pytest.raises(sf.NotFoundError):
        run(make_client(mode, api).batches.retrieve("a/../b"))
    assert api.requests[0].url.raw_path == b"/v1/batches/a%2F..%2Fb"


# --- models ---------------------------------------------------------------------------------------------------


def test_batch_helpers() -> None:
    done = sf.Batch.from_dict(TOKEN360_BODY)
    assert done.status == "completed"
    assert done.is_terminal
    assert done.counts == sf.RequestCounts(total=2, completed=2, failed=0)
    assert done.created_at_datetime == datetime(2024, 3, 9, 16, 0, tzinfo=UTC)
    assert done.datetime_of("completed_at") == datetime(2024, 3, 9, 17, 0, tzinfo=UTC)
    assert done.datetime_of("failed_at") is None
    with pytest.raises(AttributeError, match="no timestamp field 'status'"):
        done.datetime_of("status")


@pytest.mark.parametrize(
    ("status", "terminal"),
    [
        ("in_queue", False),
        ("validating", False),
        ("in_progress", False),
        ("finalizing", False),
        ("cancelling", False),
        ("paused", False),
        ("completed", True),
        ("failed", True),
        ("expired", True),
        ("cancelled", True),
    ],
)
def test_terminal_statuses(status: str, terminal: bool) -> None:
    assert sf.Batch.from_dict(batch(status=status)).is_terminal is terminal


@pytest.mark.parametrize("counts", [None, {}, {"total": 3}])
def test_counts_default_to_zero(counts: Any) -> None:
    parsed = sf.Batch.from_dict(batch(request_counts=counts)).counts
    assert parsed == sf.RequestCounts(3 if counts == {"total": 3} else 0, 0, 0)


def test_error_messages_from_each_shape() -> None:
    assert sf.Batch.from_dict(batch(errors=["line 3 is bad"])).error_messages() == ["line 3 is bad"]
    assert sf.Batch.from_dict(batch(errors=None)).error_messages() == []
    assert sf.Batch.from_dict(batch(errors={"object": "list", "data": [{"message": "m"}]})).error_messages() == ["m"]


def test_result_helpers() -> None:
    result = sf.BatchResult("a", {"status_code": 200, "body": {"choices": [{"message": {"content": "hi"}}]}}, None)
    assert (result.ok, result.status_code, result.content) == (True, 200, "hi")
    failed = sf.BatchResult("b", {"status_code": 400, "body": {"error": "x"}}, None, source="error")
    assert (failed.ok, failed.content) == (False, None)
    assert sf.BatchResult("c", None, {"code": "x"}).ok is False


# --- documented examples through the public API -------------------------------------------------------


def _fragment_example(name: str, route: str, method: str) -> Any:
    document = load_fragment(FRAGMENTS / name)
    media = document["paths"][route][method]["responses"]["200"]["content"]["application/json"]
    return media.get("example", synthesize_example(media["schema"], document))


def test_documented_batches_parse_through_the_client(mode: str, api: FakeAPI) -> None:
    api.on("GET /batches/batch_rdyqgrcgjg", ok(GET_PAGE_BODY))
    api.on("POST /batches", ok(_fragment_example("siliconflow-create-batch.openapi.yaml", "/batches", "post")))
    api.on(
        "POST /batches/batch_rdyqgrcgjg/cancel",
        ok(_fragment_example("siliconflow-cancel-batch.openapi.yaml", "/batches/{batch_id}/cancel", "post")),
    )
    api.on("GET /batches", ok(_fragment_example("siliconflow-list-batches.openapi.md", "/batches", "get")))
    client = make_client(mode, api)
    got = run(client.batches.retrieve("batch_rdyqgrcgjg"))
    assert (got.errors, got.counts, got.metadata["description"]) == ([], (0, 0, 0), "nightly eval job")
    created = run(
        client.batches.create(
            input_file_id="file-jkvytbjtow",
            metadata={"description": "nightly eval job"},
            replace_model="deepseek-ai/DeepSeek-V3",
        )
    )
    assert (created.status, created.errors, created.request_counts) == ("in_queue", None, None)
    cancelled = run(client.batches.cancel("batch_rdyqgrcgjg"))
    assert (cancelled.status, cancelled.counts) == ("cancelling", (100, 23, 1))
    (listed,) = run(client.batches.list())
    assert (listed.id, listed.file_name, listed.metadata["name"]) == ("batch_id", "requests_name.json", "batch")


def test_documented_files_parse_through_the_client(mode: str, api: FakeAPI, tmp_path: Any) -> None:
    uploaded = _fragment_example("siliconflow-upload-file.openapi.yaml", "/files", "post")
    listed = _fragment_example("siliconflow-list-files.openapi.yaml", "/files", "get")
    api.on("POST /files", ok(uploaded))
    api.on("GET /files", ok(listed))
    path = tmp_path / "requests.jsonl"
    path.write_text(
        '{"custom_id":"a","method":"POST","url":"/v1/chat/completions",'
        '"body":{"model":"m","messages":[{"role":"user","content":"x"}]}}\n'
    )
    client = make_client(mode, api)
    file = run(client.files.upload(path))
    assert file == sf.FileObject(
        id="file-jkvytbjtow", bytes=8509, created_at=1741685396, filename="requests.jsonl", purpose="batch"
    )
    (item,) = run(client.files.list(limit=5))
    assert (item.id, item.created_at, item.line_count) == (
        "file-kkhtqklcnm",
        1741777570,
        2,
    )  # the list page's own example
    assert api.calls("GET /files")[0].url.params["purpose"] == "batch"
    assert api.calls("GET /files")[0].url.params["limit"] == "5"


def test_empty_file_list(mode: str, api: FakeAPI) -> None:
    api.on("GET /files", envelope({"data": [], "object": "file"}))
    assert run(make_client(mode, api).files.list()) == []


# --- raw responses ---------------------------------------------------------------------------------------------


def test_raw_response_gives_headers_and_the_parsed_value(mode: str, api: FakeAPI) -> None:
    api.on("GET /batches/batch_1", httpx.Response(200, json=batch(), headers={"x-ratelimit-remaining": "41"}))
    raw = run(make_client(mode, api).batches.with_raw_response.retrieve("batch_1"))
    assert isinstance(raw, sf.APIResponse)
    assert raw.status_code == 200
    assert raw.headers["x-ratelimit-remaining"] == "41"
    assert repr(raw) == "<APIResponse [200] GET /v1/batches/batch_1>"
    parsed = raw.parse()
    assert isinstance(parsed, sf.Batch)
    assert raw.parse() is parsed  # parsed once


def test_raw_calls_cover_every_single_request_operation(mode: str, api: FakeAPI, tmp_path: Any) -> None:
    api.on("POST /batches", ok(batch()))
    api.on("POST /batches/batch_1/cancel", ok(batch(status="cancelling")))
    api.on("GET /batches", ok({"object": "list", "data": [batch()], "has_more": False}))
    api.on("GET /files", envelope({"data": [], "object": "file"}))
    api.on("POST /files", envelope({"id": "file-1", "object": "file", "bytes": 3, "createdAt": 5}))
    api.on("GET /user/info", envelope({"id": "u1", "balance": "1.5"}))
    path = tmp_path / "r.jsonl"
    path.write_text(
        '{"custom_id":"a","method":"POST","url":"/v1/chat/completions",'
        '"body":{"model":"m","messages":[{"role":"user","content":"x"}]}}\n'
    )
    client = make_client(mode, api)
    assert run(client.account.with_raw_response.retrieve()).parse().id == "u1"
    assert run(client.batches.with_raw_response.create(input_file_id="file-in")).parse().id == "batch_1"
    assert run(client.batches.with_raw_response.cancel("batch_1")).parse().status == "cancelling"
    assert [b.id for b in run(client.batches.with_raw_response.list(limit=1)).parse().data] == ["batch_1"]
    assert run(client.files.with_raw_response.list()).parse() == []
    assert run(client.files.with_raw_response.upload(path)).parse().created_at == 5


def test_raw_calls_are_the_methods_themselves(mode: str, api: FakeAPI) -> None:
    client = make_client(mode, api)
    pairs = [
        (client.batches.with_raw_response.create, client.batches.create),
        (client.batches.with_raw_response.retrieve, client.batches.retrieve),
        (client.batches.with_raw_response.cancel, client.batches.cancel),
        (client.batches.with_raw_response.list, client.batches.page),
        (client.files.with_raw_response.upload, client.files.upload),
        (client.files.with_raw_response.list, client.files.list),
        (client.account.with_raw_response.retrieve, client.account.retrieve),
    ]
    for raw, method in pairs:
        assert inspect.signature(raw).parameters == inspect.signature(method).parameters
        assert inspect.iscoroutinefunction(raw) is (mode == "async")


def test_a_raw_create_found_by_its_key_gives_the_lookups_response(mode: str, api: FakeAPI) -> None:
    found = batch(metadata={"idempotency_key": "k-1"})
    api.on("GET /batches", ok({"object": "list", "data": [found], "has_more": False}))
    raw = run(make_client(mode, api).batches.with_raw_response.create(input_file_id="file-in", idempotency_key="k-1"))
    assert raw.parse().id == "batch_1"
    assert raw.http_response.request.method == "GET"  # nothing was created: the lookup answered
    assert [r.method for r in api.requests] == ["GET"]


def test_raw_calls_raise_like_the_ordinary_ones(mode: str, api: FakeAPI) -> None:
    with pytest.raises(sf.NotFoundError):
        run(make_client(mode, api).batches.with_raw_response.retrieve("batch_missing"))
    api.on("GET /batches/batch_1", ok({"id": "batch_1"}))
    raw = run(make_client(mode, api).batches.with_raw_response.retrieve("batch_1"))
    with pytest.raises(sf.APIResponseValidationError, match="field 'object' required field is missing"):
        raw.parse()


def test_every_raw_call_hands_back_its_own_response_and_parses_it_only_when_asked(
    mode: str, api: FakeAPI, tmp_path: Any
) -> None:
    """Each raw call is its method's final response, unparsed: a body that does not fit raises only at parse()."""
    bad = httpx.Response(200, text="<html>not the API</html>")
    api.on("POST /batches", bad)
    api.on("GET /batches/batch_1", bad)
    api.on("POST /batches/batch_1/cancel", bad)
    api.on("GET /batches", bad)
    api.on("GET /files", bad)
    api.on("POST /files", bad)
    api.on("GET /user/info", bad)
    path = tmp_path / "r.jsonl"
    path.write_text(
        '{"custom_id":"a","method":"POST","url":"/v1/chat/completions",'
        '"body":{"model":"m","messages":[{"role":"user","content":"x"}]}}\n'
    )
    client = make_client(mode, api)
    calls: dict[str, Callable[[], Any]] = {
        "POST /v1/batches": lambda: client.batches.with_raw_response.create(input_file_id="file-in"),
        "GET /v1/batches/batch_1": lambda: client.batches.with_raw_response.retrieve("batch_1"),
        "POST /v1/batches/batch_1/cancel": lambda: client.batches.with_raw_response.cancel("batch_1"),
        "GET /v1/batches": lambda: client.batches.with_raw_response.list(limit=1),
        "GET /v1/files": lambda: client.files.with_raw_response.list(),
        "POST /v1/files": lambda: client.files.with_raw_response.upload(path),
        "GET /v1/user/info": lambda: client.account.with_raw_response.retrieve(),
    }
    for route, call in calls.items():
        raw = run(call())
        request = raw.http_response.request
        assert f"{request.method} {request.url.path}" == route
        with pytest.raises(sf.APIResponseValidationError):
            raw.parse()
