"""Mistakes and odd answers seen in the field: secrets stay secret, bad headers and cursors cannot hang a call,
deadlines hold, threads share a client from the first call, and files land whole with the user's permissions."""

from __future__ import annotations

import asyncio
import os
import pickle
import stat
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch._results import Splitter
from siliconflow_batch._retry import MAX_RETRY_AFTER, backoff_delay, retry_after
from siliconflow_batch.testing import VirtualClock

from fakes import BASE, KEY, FakeAPI, batch, envelope, make_client, ok, run, stream

# --- secrets -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("raw", [f"{KEY}\n", f"  {KEY}\t", f"{KEY}\r\n"])
def test_a_key_read_from_a_file_is_stripped(mode: str, api: FakeAPI, raw: str) -> None:
    api.on("GET /batches/batch_1", ok(batch()))
    client = make_client(mode, api, api_key=raw)
    run(client.batches.retrieve("batch_1"))
    assert api.requests[0].headers["authorization"] == f"Bearer {KEY}"


@pytest.mark.parametrize("raw", ["sk-abc def", "sk-abc\ndef", "sk-ключ"])
def test_a_key_with_inner_whitespace_or_non_ascii_is_refused_without_quoting_it(raw: str) -> None:
    with pytest.raises(sf.SiliconFlowError) as caught:
        sf.SiliconFlow(api_key=raw, base_url=BASE)
    assert "abc" not in str(caught.value)
    assert "ключ" not in str(caught.value)


ERRORS: list[tuple[str, Any]] = [
    ("status", httpx.Response(404, text="404 page not found")),
    ("envelope", envelope(None, status=False, code=20012, message="bad")),
    ("validation", ok([1])),
    ("connection", httpx.ConnectError("refused")),
    ("timeout", httpx.ReadTimeout("slow")),
]


@pytest.mark.parametrize(("name", "reply"), ERRORS, ids=[name for name, _ in ERRORS])
def test_every_error_pickles_and_carries_no_key(
    mode: str, api: FakeAPI, clock: VirtualClock, name: str, reply: Any
) -> None:
    route = "GET /files" if name == "envelope" else "GET /batches/batch_1"
    api.on(route, reply)
    client = make_client(mode, api, max_retries=0)
    with pytest.raises(sf.APIError) as caught:
        run(client.files.list() if name == "envelope" else client.batches.retrieve("batch_1"))
    error = caught.value
    pickled = pickle.dumps(error)
    assert KEY.encode() not in pickled
    assert KEY not in repr(error.__dict__)
    restored = pickle.loads(pickled)
    assert type(restored) is type(error)
    assert str(restored) == str(error)
    assert restored.request is not None
    assert "authorization" not in restored.request.headers
    assert error.request is not None
    assert str(restored.request.url) == str(error.request.url)
    # The request that went out did carry the key: only the copy kept by the error lost it.
    assert api.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_errors_cross_a_process_pool() -> None:
    code = (
        "import concurrent.futures as f, siliconflow_batch as sf\n"
        "def boom(_):\n"
        "    raise sf.WaitTimeoutError('late', batch=None)\n"
        "with f.ProcessPoolExecutor(1) as pool:\n"
        "    try:\n"
        "        pool.submit(boom, 1).result()\n"
        "    except sf.WaitTimeoutError as e:\n"
        "        print('caught', e, e.batch)\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
    assert result.stdout.strip() == "caught late None", result.stderr


def test_a_presigned_url_signature_is_never_quoted(
    mode: str, api: FakeAPI, clock: VirtualClock, tmp_path: Path
) -> None:
    url = "https://oss.example.com/out.jsonl?Signature=SECRETSIG&Expires=1"
    api.on(f"GET {url}", stream([b'{"custom_id": "a"}\n'], fail=True))
    client = make_client(mode, api, max_retries=1)
    with pytest.raises(sf.APIConnectionError) as caught:
        run(client.files.download(url, tmp_path / "out.jsonl"))
    assert "SECRETSIG" not in str(caught.value)
    assert "oss.example.com/out.jsonl" in str(caught.value)
    api.on(f"GET {url}", httpx.Response(403, text="expired"))
    with pytest.raises(sf.PermissionDeniedError) as status:
        run(client.files.download(url, tmp_path / "out.jsonl"))
    assert "SECRETSIG" not in str(status.value)
    assert "https://oss.example.com/out.jsonl" in str(status.value)


def test_a_huge_error_body_is_quoted_bounded(mode: str, api: FakeAPI) -> None:
    api.on("GET /batches/batch_1", httpx.Response(400, json={"code": 1, "message": "word " * 100_000}))
    with pytest.raises(sf.BadRequestError) as caught:
        run(make_client(mode, api).batches.retrieve("batch_1"))
    assert len(str(caught.value)) < 700
    assert str(caught.value).endswith("\u2026 (code 1)")


# --- Retry-After -----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"retry-after": "nan"}, None),
        ({"retry-after": "inf"}, None),
        ({"retry-after": "-inf"}, None),
        ({"retry-after": "-5"}, 0.0),
        ({"retry-after": "1e400"}, None),
        ({"retry-after-ms": "nan", "retry-after": "2"}, 2.0),
        ({"retry-after": "Wed, 99 Foo 99999999 99:99:99 GMT"}, None),
        ({"retry-after": "Fri, 31 Dec 9999 23:59:59 GMT"}, None),  # far, but a date: capped by the caller
    ],
)
def test_odd_retry_after_values_are_ignored_or_clamped(headers: dict[str, str], expected: float | None) -> None:
    value = retry_after(httpx.Headers(headers))
    if headers.get("retry-after", "").startswith("Fri"):
        assert value is not None
        assert value > 1e9
        assert backoff_delay(0, httpx.Headers(headers)) == MAX_RETRY_AFTER
    else:
        assert value == expected


@pytest.mark.parametrize("header", ["nan", "inf", "-1", "99999999999"])
def test_a_rate_limited_request_with_an_odd_retry_after_is_retried_promptly(
    mode: str, api: FakeAPI, clock: VirtualClock, header: str
) -> None:
    api.on("GET /batches/batch_1", httpx.Response(429, headers={"Retry-After": header}), ok(batch()))
    assert run(make_client(mode, api).batches.retrieve("batch_1")).id == "batch_1"
    assert len(clock.sleeps) == 1
    assert 0 <= clock.sleeps[0] <= MAX_RETRY_AFTER


# --- pagination ---------------------------------------------------------------------------------------------------


def _page(ids: list[str], *, has_more: bool = True) -> httpx.Response:
    return ok(
        {
            "object": "list",
            "data": [batch(id=i) for i in ids],
            "first_id": ids[0],
            "last_id": ids[-1],
            "has_more": has_more,
        }
    )


def test_a_cursor_cycle_longer_than_one_page_is_an_error(mode: str, api: FakeAPI) -> None:
    api.max_requests = 10  # a pager that missed the cycle fails at once, it does not loop until the time limit

    def answer(request: httpx.Request) -> httpx.Response:
        after = request.url.params.get("after")
        return _page({None: ["a"], "a": ["b"], "b": ["c"], "c": ["a"]}[after])

    api.on("GET /batches", answer)
    with pytest.raises(sf.PaginationError, match="loop"):
        run(make_client(mode, api).batches.list(limit=1))
    assert len(api.requests) == 4


@pytest.mark.parametrize("limit", [0, -1])
def test_a_limit_below_the_spec_minimum_is_refused_before_sending(mode: str, api: FakeAPI, limit: int) -> None:
    client = make_client(mode, api)
    with pytest.raises(sf.InputValidationError, match="limit: must be at least 1"):
        run(client.batches.list(limit=limit))
    with pytest.raises(sf.InputValidationError, match="limit: must be at least 1"):
        run(client.files.list(limit=limit))
    assert api.requests == []


def test_the_limit_minimum_is_the_specs() -> None:
    import yaml

    from siliconflow_batch.validation import MIN_PAGE_LIMIT

    from helpers import ROOT

    spec = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text())
    minimums = {
        p["schema"]["minimum"]
        for path in ("/batches", "/files")
        for p in spec["paths"][path]["get"]["parameters"]
        if p["name"] == "limit"
    }
    assert minimums == {MIN_PAGE_LIMIT}


@pytest.mark.parametrize(
    "body",
    [
        {"code": 20012, "message": "paging is not supported", "status": False, "data": None},
        {"code": 50000, "message": "internal error"},
    ],
)
def test_an_error_envelope_on_the_list_route_is_an_error_not_an_empty_page(
    mode: str, api: FakeAPI, body: dict[str, Any]
) -> None:
    api.on("GET /batches", ok(body))
    with pytest.raises(sf.EnvelopeError, match=body["message"]):
        run(make_client(mode, api).batches.list())


# --- deadlines and failing servers ----------------------------------------------------------------------------------


class SlowClock(VirtualClock):
    """A fake clock on which every request takes ``cost`` seconds."""

    def __init__(self, cost: float) -> None:
        super().__init__()
        self.cost = cost


def test_a_wait_timeout_bounds_the_retries_inside_one_poll(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    def slow_failure(request: httpx.Request) -> httpx.Response:
        clock.now += 5.0  # each attempt takes 5 s before the server gives up
        return httpx.Response(503, json={"code": 50505, "message": "busy"})

    api.on("GET /batches/batch_1", ok(batch()), slow_failure)
    started = clock.now
    client = make_client(mode, api, max_retries=50)
    with pytest.raises(sf.WaitTimeoutError):
        run(client.batches.wait("batch_1", poll_interval=1, timeout=12))
    assert clock.now - started <= 12 + 5  # at most one attempt overruns, by its own length


def test_each_request_timeout_is_cut_to_the_deadline(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    seen: list[dict[str, float]] = []

    def record(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return ok(batch(status="completed"))

    api.on("GET /batches/batch_1", record)
    run(make_client(mode, api).batches.wait("batch_1", timeout=3))
    assert set(seen[0]) == {"connect", "read", "write", "pool"}  # every phase, so the bound below is not vacuous
    assert all(value is not None and 0 < value <= 3 for value in seen[0].values())


def test_a_wait_on_a_server_that_never_answered_fails_at_once(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on("GET /batches/batch_1", httpx.ConnectError("connection refused"))
    with pytest.raises(sf.APIConnectionError) as caught:
        run(make_client(mode, api, max_retries=1).batches.wait("batch_1", poll_interval=30))
    assert len(api.requests) == 2  # the request and its one retry: no poll after that
    assert "never answered" in "".join(caught.value.__notes__)
    assert "api.test" in str(caught.value)


def test_an_outage_after_the_server_answered_is_tolerated_for_max_outage(
    mode: str, api: FakeAPI, clock: VirtualClock
) -> None:
    api.on("GET /batches/batch_1", ok(batch()), httpx.ConnectError("down"))
    client = make_client(mode, api, max_retries=0)
    with pytest.raises(sf.APIConnectionError) as caught:
        run(client.batches.wait("batch_1", poll_interval=10, max_outage=60))
    polls = len(api.requests)
    assert 7 <= polls <= 9  # one good poll, then failures every 10 s for 60 s
    assert "max_outage 60" in "".join(caught.value.__notes__)


@pytest.mark.parametrize("value", [-1.0, float("nan")])
def test_negative_or_nan_wait_settings_are_refused(mode: str, api: FakeAPI, value: float) -> None:
    client = make_client(mode, api)
    settings: dict[str, Any] = {"poll_interval": 1.0, "timeout": None, "max_outage": 1.0}
    for name in settings:
        with pytest.raises(ValueError, match=name):
            run(client.batches.wait("batch_1", **{**settings, name: value}))
    assert api.requests == []


def test_async_wait_many_leaves_no_poll_running_when_one_fails(api: FakeAPI, clock: VirtualClock) -> None:
    api.on("GET /batches/bad", httpx.Response(404, text="404 page not found"))
    api.on("GET /batches/slow", ok(batch(id="slow")))
    client = make_client("async", api)
    assert isinstance(client, sf.AsyncSiliconFlow)

    async def scenario() -> set[asyncio.Task[Any]]:
        with pytest.raises(sf.NotFoundError):
            await client.batches.wait_many(["slow", "bad"], poll_interval=1)
        before = len(api.requests)
        for _ in range(20):
            await asyncio.sleep(0)
        assert len(api.requests) == before  # nothing polls any more
        return {t for t in asyncio.all_tasks() if t is not asyncio.current_task()}

    assert asyncio.run(scenario()) == set()


# --- results -------------------------------------------------------------------------------------------------------


def test_results_of_a_running_batch_raise_unless_partial(mode: str, api: FakeAPI) -> None:
    running = batch(status="in_progress", output_file_id="file-out")
    api.on("GET /batches/batch_1", ok(running))
    api.on("GET /files/file-out/content", stream([b'{"custom_id": "a", "response": null}\n']))
    client = make_client(mode, api)
    with pytest.raises(sf.BatchNotFinishedError, match="in_progress") as caught:
        run(client.batches.results("batch_1"))
    assert caught.value.batch.id == "batch_1"
    assert [r.custom_id for r in run(client.batches.results("batch_1", partial=True))] == ["a"]


def test_splitting_a_very_long_line_is_linear() -> None:
    chunks = [b"x" * 1024] * 20_000 + [b"\n"]  # a 20 MB line in 1 KB chunks
    calls = 0

    class Counting(bytes):
        def split(self, *args: Any, **kwargs: Any) -> list[bytes]:
            nonlocal calls
            calls += len(self)
            return super().split(*args, **kwargs)

    (line,) = list(iter_lines(Counting(c) for c in chunks))
    assert len(line) == 1024 * 20_000
    assert calls <= 2 * 1024 * 20_000  # each byte scanned about once; quadratic would be ~2e11


# --- downloads ------------------------------------------------------------------------------------------------------


def test_downloads_get_the_users_umask_and_a_long_name_works(mode: str, api: FakeAPI, tmp_path: Path) -> None:
    api.on("GET /files/file-out/content", stream([b"line\n"]))
    name = "r" * 240 + ".jsonl"  # legal (255 bytes max); a ".name.XXXX.part" temporary would not be
    old = os.umask(0o027)
    try:
        path = run(make_client(mode, api).files.download("file-out", tmp_path / name))
    finally:
        os.umask(old)
    assert path.read_bytes() == b"line\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert sorted(p.name for p in tmp_path.iterdir()) == [name]


def test_a_download_onto_a_directory_is_refused_before_sending(mode: str, api: FakeAPI, tmp_path: Path) -> None:
    with pytest.raises(sf.InputValidationError, match="is a directory"):
        run(make_client(mode, api).files.download("file-out", tmp_path))
    assert api.requests == []


@pytest.mark.parametrize("kind", ["directory", "missing"])
def test_uploading_a_path_that_is_not_a_file_is_one_clear_error(
    mode: str, api: FakeAPI, tmp_path: Path, kind: str
) -> None:
    path = tmp_path if kind == "directory" else tmp_path / "missing.jsonl"
    client = make_client(mode, api)
    for validate in (True, False):
        with pytest.raises(sf.InputValidationError, match="file: "):
            run(client.files.upload(path, validate=validate))
    assert api.requests == []


# --- threads -----------------------------------------------------------------------------------------------------


def test_sixteen_threads_share_a_fresh_client_from_the_first_call() -> None:
    code = """
import threading, httpx, siliconflow_batch as sf
body = {"id": "b", "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": "f",
        "completion_window": "24h", "status": "in_queue", "created_at": 1, "request_counts": {"total": 1},
        "metadata": {"k": "v"}, "errors": {"object": "list", "data": [{"code": "c", "message": "m"}]}}
answer = httpx.MockTransport(lambda r: httpx.Response(200, json=body))
client = sf.SiliconFlow(api_key="k", base_url="http://x/v1", http_client=httpx.Client(transport=answer))
start, errors = threading.Barrier(16), []
def work():
    start.wait()
    try:
        client.batches.retrieve("b")
    except BaseException as e:
        errors.append(repr(e))
threads = [threading.Thread(target=work) for _ in range(16)]
[t.start() for t in threads]; [t.join() for t in threads]
print(errors or "ok")
"""
    for _ in range(3):  # a fresh process each time: the race is on the first call only
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=False)
        assert result.stdout.strip() == "ok", result.stdout + result.stderr


def iter_lines(chunks: Iterable[bytes]) -> list[bytes]:
    """What the results reader makes of a body's chunks (its Splitter, fed chunk by chunk)."""
    splitter = Splitter()
    return [line for chunk in chunks for line in splitter.feed(chunk)] + splitter.end()


def test_the_poll_interval_stretches_while_nothing_changes_and_snaps_back(
    mode: str, api: FakeAPI, clock: VirtualClock
) -> None:
    queued, running = batch(status="in_queue"), batch(status="in_progress")
    api.on("GET /batches/batch_1", *[ok(queued)] * 5, ok(running), ok(running), ok(batch(status="completed")))
    run(make_client(mode, api).batches.wait("batch_1", poll_interval=10, max_poll_interval=30))
    # the first poll is news (10); no change: 15, 22.5, 30, 30 (capped); the change to running brings 10 back
    assert clock.sleeps == [10, 15, 22.5, 30, 30, 10, 15]


def test_a_fixed_interval_is_the_default(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on("GET /batches/batch_1", *[ok(batch(status="in_queue"))] * 4, ok(batch(status="completed")))
    run(make_client(mode, api).batches.wait("batch_1", poll_interval=10))
    assert clock.sleeps == [10.0] * 4


def test_a_poll_answered_429_waits_as_long_as_the_server_asks(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    limited = httpx.Response(429, headers={"Retry-After": "45"}, json={"code": 42900, "message": "slow down"})
    api.on("GET /batches/batch_1", ok(batch()), limited, ok(batch(status="completed")))
    run(make_client(mode, api, max_retries=0).batches.wait("batch_1", poll_interval=5))
    assert clock.sleeps == [5.0, 45.0]
