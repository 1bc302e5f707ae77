"""The emulator: the whole lifecycle over real sockets, its wire format against the spec, and every fault."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch.testing import Emulator, Faults, VirtualClock

from fakes import RequestBudget, run
from spec_check import (
    async_request_hook,
    async_response_hook,
    check_request,
    check_response,
    request_hook,
    response_hook,
)

MODEL = "deepseek-ai/DeepSeek-V3"


def _input(tmp_path: Path, count: int = 10, *, oversized: frozenset[int] = frozenset({3})) -> Path:
    path = tmp_path / "requests.jsonl"
    lines = []
    for i in range(count):
        body: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": f"q{i}"}]}
        if i in oversized:
            body["max_tokens"] = 100_000
        lines.append(json.dumps({"custom_id": f"r{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}))
    path.write_text("\n".join(lines) + "\n")
    return path


def _client(mode: str, emulator: Emulator, server: Any, *, budget: RequestBudget | None = None, **options: Any) -> Any:
    """A client whose every request and response is checked against the spec (and counted, given a budget)."""
    if mode == "sync":
        hooks: dict[str, list[Any]] = {"request": [request_hook], "response": [response_hook]}
        hooks["request"] += [budget] if budget else []
        return sf.SiliconFlow(
            api_key=emulator.api_key, base_url=server.url, http_client=httpx.Client(event_hooks=hooks), **options
        )
    # Each run() is a new event loop: pooled connections must not outlive it.
    http = httpx.AsyncClient(
        limits=httpx.Limits(max_keepalive_connections=0),
        event_hooks={
            "request": [async_request_hook, *([budget.hook] if budget else [])],
            "response": [async_response_hook],
        },
    )
    return sf.AsyncSiliconFlow(api_key=emulator.api_key, base_url=server.url, http_client=http, **options)


# --- lifecycle over sockets -----------------------------------------------------------------------------


def test_whole_lifecycle_over_http(mode: str, emulator: Emulator, server: Any, tmp_path: Path) -> None:
    assert re.fullmatch(r"http://127\.0\.0\.1:\d+/v1", server.url)
    client = _client(mode, emulator, server)
    file = run(client.files.upload(_input(tmp_path)))
    assert (file.filename, file.purpose) == ("requests.jsonl", "batch")
    created = run(client.batches.create(input_file_id=file.id, metadata={"job": "test"}))
    assert created.status == "in_queue"
    statuses: list[str] = []
    done = run(client.batches.wait(created.id, poll_interval=5, on_update=lambda b: statuses.append(str(b.status))))
    assert list(dict.fromkeys(statuses)) == ["in_queue", "validating", "in_progress", "finalizing", "completed"]
    assert statuses.count("in_progress") > 1  # counts rising fire updates too
    assert done.counts == sf.RequestCounts(10, 9, 1)
    results = run(client.batches.results(done, expected_ids=[f"r{i}" for i in range(10)]))
    assert sorted(r.custom_id for r in results) == sorted(f"r{i}" for i in range(10))
    (failed,) = [r for r in results if not r.ok]
    assert (failed.custom_id, failed.source, failed.status_code) == ("r3", "error", 400)
    assert results[0].content == f"[emulated {MODEL}] q0"
    listed = run(client.files.list())
    assert listed[0].line_count == 10
    assert [b.id for b in run(client.batches.list())] == [created.id]


def test_cancel_keeps_partial_results(
    mode: str, emulator: Emulator, server: Any, tmp_path: Path, clock: VirtualClock
) -> None:
    client = _client(mode, emulator, server)
    batch = run(
        client.batches.create(input_file_id=run(client.files.upload(_input(tmp_path, oversized=frozenset()))).id)
    )
    clock.now += 35  # in_progress, half the requests done
    cancelling = run(client.batches.cancel(batch.id))
    assert cancelling.status == "cancelling"
    assert cancelling.cancelling_at is not None
    done = run(client.batches.wait(batch.id, poll_interval=5))
    assert done.status == "cancelled"
    assert done.counts.completed == 5
    assert len(run(client.batches.results(done))) == 5
    with pytest.raises(sf.BadRequestError, match="cannot be cancelled"):
        run(client.batches.cancel(batch.id))


def test_expiry_writes_batch_expired_lines(mode: str, clock: VirtualClock, tmp_path: Path) -> None:
    emulator = Emulator(stage_seconds=50_000, clock=clock.monotonic)  # six stages take longer than 24h
    with emulator.serve() as server:
        client = _client(mode, emulator, server)
        batch = run(client.batches.create(input_file_id=run(client.files.upload(_input(tmp_path))).id))
        done = run(client.batches.wait(batch.id, poll_interval=3600))
        assert done.status == "expired"
        assert done.expired_at == done.expires_at
        results = run(client.batches.results(done))
        assert {r.error["code"] for r in results if r.error} == {"batch_expired"}
        assert len(results) == 10


def test_state_survives_in_a_directory(clock: VirtualClock, tmp_path: Path) -> None:
    first = Emulator(stage_seconds=10, clock=clock.monotonic, state_dir=tmp_path / "state")
    transport = first.transport()
    client = sf.SiliconFlow(
        api_key=first.api_key, base_url="http://emulator/v1", http_client=httpx.Client(transport=transport)
    )
    file = client.files.upload(_input(tmp_path))
    batch = client.batches.create(input_file_id=file.id)
    second = Emulator(stage_seconds=10, clock=clock.monotonic, state_dir=tmp_path / "state")
    again = sf.SiliconFlow(
        api_key=second.api_key, base_url="http://emulator/v1", http_client=httpx.Client(transport=second.transport())
    )
    clock.now += 100
    assert again.batches.retrieve(batch.id).status == "completed"
    assert [f.id for f in again.files.list()][-1] == file.id
    assert again.files.upload(_input(tmp_path)).id != file.id  # ids keep counting after a restart


def test_concurrent_creates_are_all_kept(emulator: Emulator, server: Any, tmp_path: Path) -> None:
    client = sf.SiliconFlow(api_key=emulator.api_key, base_url=server.url)
    file = client.files.upload(_input(tmp_path))
    ids: list[str] = []

    def create() -> None:
        for _ in range(10):
            ids.append(client.batches.create(input_file_id=file.id).id)

    threads = [threading.Thread(target=create) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(set(ids)) == 80
    assert len(emulator.batches()) == 80
    assert len(list(client.batches.list(limit=7))) == 80


# --- the wire format against the spec ------------------------------------------------------------------------


class SpecCheckingTransport(httpx.BaseTransport):
    """Passes requests to the emulator and checks every request and answer against spec/openapi.yaml."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.checked = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        check_request(request)
        response = self.inner.handle_request(request)
        response.read()
        check_response(
            httpx.Response(response.status_code, headers=response.headers, content=response.content, request=request)
        )
        self.checked += 1
        return response


def test_every_emulator_answer_fits_the_spec(emulator: Emulator, clock: VirtualClock, tmp_path: Path) -> None:
    checker = SpecCheckingTransport(emulator.transport())
    client = sf.SiliconFlow(
        api_key=emulator.api_key,
        base_url="http://emulator/v1",
        max_retries=0,
        http_client=httpx.Client(transport=checker),
    )
    file = client.files.upload(_input(tmp_path))
    client.files.list()
    batches = [client.batches.create(input_file_id=file.id, metadata={"k": "v"}) for _ in range(3)]
    for step in range(10):  # every status on the way, and a cancel in the middle
        clock.now += 7
        for batch in batches:
            client.batches.retrieve(batch.id)
        if step == 3:
            client.batches.cancel(batches[1].id)
    list(client.batches.list(limit=2))
    done = client.batches.retrieve(batches[0].id)
    list(client.batches.results(done))
    wrong_key = sf.SiliconFlow(
        api_key="sk-wrong", base_url="http://emulator/v1", max_retries=0, http_client=httpx.Client(transport=checker)
    )
    calls: list[Callable[[], object]] = [
        lambda: wrong_key.batches.retrieve(batches[0].id),
        lambda: client.batches.retrieve("missing"),
        lambda: client.batches.create(input_file_id="file-missing"),
    ]
    for call in calls:
        with pytest.raises(sf.APIStatusError):
            call()
    for kind in ("overloaded", "gateway_timeout"):
        emulator.faults.inject(kind)
        with pytest.raises(sf.InternalServerError):
            client.batches.retrieve(batches[0].id)
    assert checker.checked >= 35  # every request above went through the check


def test_error_wire_format(emulator: Emulator, server: Any) -> None:
    raw = httpx.Client(base_url=server.url)
    assert raw.get("/batches").json() == "Invalid token"
    missing = raw.get("/nothing/here", headers={"Authorization": f"Bearer {emulator.api_key}"})
    assert (missing.status_code, missing.text, missing.headers["content-type"]) == (
        404,
        "404 page not found",
        "text/plain; charset=utf-8",
    )
    bad = raw.post(
        "/batches", json={"endpoint": "/v1/chat/completions"}, headers={"Authorization": f"Bearer {emulator.api_key}"}
    )
    assert bad.status_code == 400
    assert bad.json()["code"] == 20012
    assert raw.get("/x", headers={"Authorization": "Bearer k"}).text == "404 page not found"


# --- faults ----------------------------------------------------------------------------------------------------


def _batch_count(emulator: Emulator) -> int:
    return len(emulator.batches())


def test_overloaded_create_is_retried_once(mode: str, emulator: Emulator, server: Any, tmp_path: Path) -> None:
    client = _client(mode, emulator, server)
    file = run(client.files.upload(_input(tmp_path)))
    emulator.faults.inject("overloaded", route="POST /batches")
    run(client.batches.create(input_file_id=file.id))
    assert _batch_count(emulator) == 1
    assert emulator.requests["POST /batches"] == 2


def test_rate_limited_upload_honours_retry_after(
    mode: str, emulator: Emulator, server: Any, tmp_path: Path, clock: VirtualClock
) -> None:
    emulator.faults.retry_after = 7
    emulator.faults.inject("rate_limit", route="POST /files")
    run(_client(mode, emulator, server).files.upload(_input(tmp_path)))
    assert clock.sleeps == [7.0]
    assert len(emulator.files()) == 1


@pytest.mark.parametrize(
    ("kind", "error"), [("gateway_timeout", sf.GatewayTimeoutError), ("drop", sf.APIConnectionError)]
)
def test_create_that_may_have_succeeded_is_not_repeated(
    mode: str, emulator: Emulator, server: Any, tmp_path: Path, kind: str, error: type
) -> None:
    client = _client(mode, emulator, server)
    file = run(client.files.upload(_input(tmp_path)))
    emulator.faults.inject(kind, route="POST /batches")
    created = run(client.batches.create(input_file_id=file.id))  # no key given: one is made for the call
    assert _batch_count(emulator) == 1  # the server did create it: the client must not make a second one
    assert [b["id"] for b in emulator.batches()] == [created.id]  # found by its key, not guessed (nor an `error`)
    assert emulator.requests["POST /batches"] == 1


@pytest.mark.parametrize("kind", ["drop", "gateway_timeout", "overloaded", "rate_limit"])
def test_reads_survive_faults(mode: str, emulator: Emulator, server: Any, tmp_path: Path, kind: str) -> None:
    client = _client(mode, emulator, server)
    batch = run(client.batches.create(input_file_id=run(client.files.upload(_input(tmp_path))).id))
    emulator.faults.inject(kind, times=2, route="GET /batches/")
    assert run(client.batches.retrieve(batch.id)).id == batch.id
    assert emulator.faults.injected[kind] == 2


def test_truncated_download_loses_no_line(
    mode: str, emulator: Emulator, server: Any, tmp_path: Path, clock: VirtualClock
) -> None:
    client = _client(mode, emulator, server)
    batch = run(client.batches.create(input_file_id=run(client.files.upload(_input(tmp_path, 40))).id))
    clock.now += 100
    done = run(client.batches.retrieve(batch.id))
    emulator.faults.inject("truncate", route="GET /files/")
    results = run(client.batches.results(done))
    assert sorted(r.custom_id for r in results) == sorted(f"r{i}" for i in range(40))
    emulator.faults.inject("truncate", route="GET /files/")
    target = run(client.files.download(done.output_file_id, tmp_path / "out.jsonl"))
    assert len(target.read_text().splitlines()) == 39


def test_slow_answer_times_out_and_is_retried(emulator: Emulator, server: Any, tmp_path: Path) -> None:
    client = sf.SiliconFlow(api_key=emulator.api_key, base_url=server.url, timeout=0.2)
    batch = client.batches.create(input_file_id=client.files.upload(_input(tmp_path)).id)
    emulator.faults.slow_seconds = 0.6
    emulator.faults.inject("slow", route="GET /batches/")
    assert client.batches.retrieve(batch.id).id == batch.id
    assert emulator.requests[f"GET /batches/{batch.id}"] == 2


def test_pager_that_ignores_after_is_caught(mode: str, emulator: Emulator, server: Any, tmp_path: Path) -> None:
    budget = RequestBudget(20)  # a pager that misses the repeat fails at once, it does not loop
    client = _client(mode, emulator, server, budget=budget)
    file = run(client.files.upload(_input(tmp_path)))
    for _ in range(5):
        run(client.batches.create(input_file_id=file.id))
    emulator.faults.ignore_after = True
    with pytest.raises(sf.PaginationError, match="already served"):
        run(client.batches.list(limit=2))
    assert emulator.requests["GET /batches"] == 2  # the first page, and the same one again


def test_random_faults_are_seeded_and_counted() -> None:
    first, second = Faults(rate=0.5, seed=7), Faults(rate=0.5, seed=7)
    picks = [first.pick("GET /batches/x") for _ in range(50)]
    assert picks == [second.pick("GET /batches/x") for _ in range(50)]
    assert "truncate" not in picks  # only downloads are truncated
    assert sum(first.injected.values()) == sum(p is not None for p in picks)
    with pytest.raises(ValueError, match="unknown fault kind"):
        first.inject("explode")


def test_async_client_in_process(clock: VirtualClock, tmp_path: Path) -> None:
    emulator = Emulator(stage_seconds=10, clock=clock.monotonic)

    async def scenario() -> list[sf.Batch]:
        async with sf.AsyncSiliconFlow(
            api_key=emulator.api_key,
            base_url="http://emulator/v1",
            http_client=httpx.AsyncClient(transport=emulator.transport()),
        ) as client:
            file = await client.files.upload(_input(tmp_path))
            ids = [(await client.batches.create(input_file_id=file.id)).id for _ in range(6)]
            return await client.batches.wait_many(ids, poll_interval=5, max_concurrency=2)

    done = asyncio.run(scenario())
    assert [b.status for b in done] == ["completed"] * 6


@pytest.mark.parametrize("kind", ["gateway_timeout", "drop"])
def test_idempotent_create_finds_the_batch_an_ambiguous_failure_created(
    mode: str, emulator: Emulator, server: Any, tmp_path: Path, kind: str
) -> None:
    client = _client(mode, emulator, server)
    file = run(client.files.upload(_input(tmp_path)))
    run(client.batches.create(input_file_id=file.id, idempotency_key="other-job"))
    emulator.faults.inject(kind, route="POST /batches")
    batch = run(client.batches.create(input_file_id=file.id, idempotency_key="job-42", metadata={"team": "evals"}))
    assert batch.metadata is not None
    assert batch.metadata["idempotency_key"] == "job-42"
    assert batch.metadata["team"] == "evals"
    assert _batch_count(emulator) == 2  # one per key: the ambiguous create was found, not repeated
    assert emulator.requests["POST /batches"] == 2


def test_idempotent_create_sends_again_when_nothing_was_created(mode: str, clock: VirtualClock) -> None:
    from fakes import FakeAPI, batch, make_client, ok

    api = FakeAPI()
    api.on("POST /batches", httpx.ReadTimeout("slow"), ok(batch(metadata={"idempotency_key": "k"})))
    api.on("GET /batches", ok({"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}))
    created = run(make_client(mode, api).batches.create(input_file_id="file-in", idempotency_key="k"))
    assert created.id == "batch_1"
    assert len(api.calls("POST /batches")) == 2
    assert len(api.calls("GET /batches")) == 2  # before the first send, and after the ambiguous failure


def test_a_rerun_with_the_same_idempotency_key_returns_the_batch_already_created(
    mode: str, emulator: Emulator, server: Any, tmp_path: Path
) -> None:
    client = _client(mode, emulator, server)
    file = run(client.files.upload(_input(tmp_path)))
    first = run(client.batches.create(input_file_id=file.id, idempotency_key="job-7/shard-0/attempt-1"))
    again = run(client.batches.create(input_file_id=file.id, idempotency_key="job-7/shard-0/attempt-1"))
    other = run(client.batches.create(input_file_id=file.id, idempotency_key="job-7/shard-0/attempt-2"))
    assert again.id == first.id
    assert other.id != first.id
    assert emulator.requests["POST /batches"] == 2


def test_without_a_key_an_ambiguous_create_is_resolved_by_the_key_made_for_the_call(
    mode: str, emulator: Emulator, server: Any, tmp_path: Path
) -> None:
    client = _client(mode, emulator, server)
    file = run(client.files.upload(_input(tmp_path)))
    emulator.faults.inject("gateway_timeout", route="POST /batches")
    created = run(client.batches.create(input_file_id=file.id))
    assert created.metadata is not None
    assert created.metadata["idempotency_key"].startswith("sfb-")
    assert emulator.requests["GET /batches"] == 1  # looked up once, after the 504, never before
    assert _batch_count(emulator) == 1


def test_a_long_prompt_is_counted_whole_and_cached_short() -> None:
    # The vendor limits a file (1 GB), not a line: the emulator runs a long line, counts its usage from the whole
    # prompt, and keeps only the start it echoes (each parsed file is cached for the batch's life).
    from siliconflow_batch.testing._engine import Engine, StoredBatch, _parse_line

    prompt = "x" * 4_000_000
    line = _parse_line(json.dumps({"custom_id": "big", "body": {"model": MODEL, "messages": [
        {"role": "user", "content": prompt}]}}).encode(), 1)  # fmt: skip
    assert len(line.prompt) <= 200
    batch = StoredBatch("batch_1", "file-1", "/v1/chat/completions", "24h", 0, None, None, "in.jsonl")
    result = Engine()._result(line, batch)
    assert result["response"]["body"]["usage"]["prompt_tokens"] == len(prompt) // 4
    assert result["response"]["body"]["choices"][0]["message"]["content"].endswith("x" * 200)
