"""Pagination, polling and results, sync and async."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch.testing import VirtualClock

from fakes import BASE, KEY, BrokenStream, FakeAPI, batch, make_client, ok, run, stream


def _page(ids: list[str], *, has_more: bool) -> httpx.Response:
    data = [batch(id=i) for i in ids]
    return ok(
        {
            "object": "list",
            "data": data,
            "first_id": ids[0] if ids else None,
            "last_id": ids[-1] if ids else None,
            "has_more": has_more,
        }
    )


# A pager test that needs more requests than this is looping: it fails here, at once, instead of hanging.
PAGER_REQUESTS = 10


def _by_after(pages: dict[str | None, httpx.Response]) -> Any:
    def reply(request: httpx.Request) -> httpx.Response:
        return pages[request.url.params.get("after")]

    return reply


# --- pagination -------------------------------------------------------------------------------------------


def test_list_follows_after_across_three_pages(mode: str, api: FakeAPI) -> None:
    api.max_requests = PAGER_REQUESTS
    pages = {
        None: _page(["b1", "b2"], has_more=True),
        "b2": _page(["b3", "b4"], has_more=True),
        "b4": _page(["b5"], has_more=False),
    }
    api.on("GET /batches", _by_after(pages))
    batches = run(make_client(mode, api).batches.list(limit=2))
    assert [b.id for b in batches] == ["b1", "b2", "b3", "b4", "b5"]
    assert all(isinstance(b, sf.Batch) for b in batches)
    assert [r.url.params.get("after") for r in api.requests] == [None, "b2", "b4"]
    assert {r.url.params.get("limit") for r in api.requests} == {"2"}


def test_iter_pages_yields_whole_pages(mode: str, api: FakeAPI) -> None:
    api.max_requests = PAGER_REQUESTS
    pages = {None: _page(["b1", "b2"], has_more=True), "b2": _page(["b3"], has_more=False)}
    api.on("GET /batches", _by_after(pages))
    result = run(make_client(mode, api).batches.list().iter_pages())
    assert [[b.id for b in p.data] for p in result] == [["b1", "b2"], ["b3"]]
    assert result[0].has_more
    assert not result[1].has_more


def test_server_ignoring_after_raises_instead_of_looping(mode: str, api: FakeAPI) -> None:
    api.max_requests = PAGER_REQUESTS
    api.on("GET /batches", _page(["b1", "b2"], has_more=True))  # the same page, whatever the cursor
    with pytest.raises(sf.PaginationError, match=r"after=.b2.*already served"):
        run(make_client(mode, api).batches.list())
    assert len(api.requests) == 2


def test_empty_page_ends_the_listing(mode: str, api: FakeAPI) -> None:
    api.max_requests = PAGER_REQUESTS
    pages = {None: _page(["b1"], has_more=True), "b1": _page([], has_more=True)}
    api.on("GET /batches", _by_after(pages))
    assert [b.id for b in run(make_client(mode, api).batches.list())] == ["b1"]
    assert len(api.requests) == 2


def test_missing_last_id_falls_back_to_the_last_item(mode: str, api: FakeAPI) -> None:
    api.max_requests = PAGER_REQUESTS
    first = ok({"object": "list", "data": [batch(id="b1")], "has_more": True})
    api.on("GET /batches", _by_after({None: first, "b1": _page(["b2"], has_more=False)}))
    assert [b.id for b in run(make_client(mode, api).batches.list())] == ["b1", "b2"]


def test_listing_is_lazy(api: FakeAPI) -> None:
    api.max_requests = PAGER_REQUESTS
    api.on("GET /batches", _by_after({None: _page(["b1"], has_more=True), "b1": _page(["b2"], has_more=False)}))
    client = make_client("sync", api)
    assert isinstance(client, sf.SiliconFlow)
    pager = client.batches.list()
    assert api.requests == []
    iterator = iter(pager)
    next(iterator)
    assert len(api.requests) == 1


# --- waiting ------------------------------------------------------------------------------------------------

STEPS = [
    batch(status="in_queue"),
    batch(status="in_queue"),
    batch(status="validating"),
    batch(status="in_progress", request_counts={"total": 4, "completed": 1, "failed": 0}),
    batch(status="in_progress", request_counts={"total": 4, "completed": 3, "failed": 1}),
    batch(status="paused"),
    batch(status="finalizing", request_counts={"total": 4, "completed": 3, "failed": 1}),
    batch(status="completed", output_file_id="file-out", request_counts={"total": 4, "completed": 3, "failed": 1}),
]


def test_wait_polls_to_a_terminal_status_through_an_unknown_one(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on("GET /batches/batch_1", *(ok(s) for s in STEPS))
    seen: list[tuple[str, tuple[int, ...]]] = []
    done = run(
        make_client(mode, api).batches.wait(
            "batch_1", poll_interval=5, on_update=lambda b: seen.append((str(b.status), tuple(b.counts)))
        )
    )
    assert done.status == "completed"
    assert done.is_terminal
    assert seen == [
        ("in_queue", (0, 0, 0)),
        ("validating", (0, 0, 0)),
        ("in_progress", (4, 1, 0)),
        ("in_progress", (4, 3, 1)),
        ("paused", (0, 0, 0)),
        ("finalizing", (4, 3, 1)),
        ("completed", (4, 3, 1)),
    ]
    assert len(api.requests) == len(STEPS)
    assert clock.sleeps == [5] * (len(STEPS) - 1)


def test_wait_timeout_carries_the_last_batch(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on("GET /batches/batch_1", ok(batch(status="in_progress")))
    with pytest.raises(sf.WaitTimeoutError, match="not done after the wait timeout") as caught:
        run(make_client(mode, api).batches.wait("batch_1", poll_interval=10, timeout=25))
    assert caught.value.batch is not None
    assert caught.value.batch.status == "in_progress"
    assert clock.sleeps == [10, 10, 5]


def test_transient_errors_do_not_end_a_wait(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on(
        "GET /batches/batch_1",
        httpx.Response(503),
        httpx.ConnectError("refused"),
        httpx.Response(502),
        ok(batch(status="failed", errors={"object": "list", "data": [{"code": "bad", "message": "m", "line": 2}]})),
    )
    done = run(make_client(mode, api, max_retries=0).batches.wait("batch_1", poll_interval=1))
    assert done.status == "failed"
    assert done.error_messages() == ["line 2: [bad] m"]


def test_a_missing_batch_ends_the_wait(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    with pytest.raises(sf.NotFoundError):
        run(make_client(mode, api).batches.wait("batch_1", poll_interval=1))


def test_a_wait_whose_first_answer_is_not_the_apis_ends_at_once_naming_the_base_url(
    mode: str, api: FakeAPI, clock: VirtualClock
) -> None:
    api.on("GET /batches/batch_1", httpx.Response(200, text="<html>please log in</html>"))
    with pytest.raises(sf.APIResponseValidationError) as caught:
        run(make_client(mode, api).batches.wait("batch_1", poll_interval=1))
    assert len(api.requests) == 1  # not polled for max_outage
    assert "check the base URL" in "".join(caught.value.__notes__)


def test_an_unreadable_answer_after_good_ones_is_waited_out(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    running, done = ok(batch(status="in_progress")), ok(batch(status="completed"))
    api.on("GET /batches/batch_1", running, httpx.Response(200, text="<html>"), done)
    assert run(make_client(mode, api).batches.wait("batch_1", poll_interval=1)).status == "completed"


def test_wait_many_returns_in_order(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on("GET /batches/a", ok(batch(id="a", status="in_progress")), ok(batch(id="a", status="completed")))
    api.on("GET /batches/b", ok(batch(id="b", status="cancelled")))
    done = run(make_client(mode, api).batches.wait_many(["a", "b"], poll_interval=2))
    assert [(b.id, b.status) for b in done] == [("a", "completed"), ("b", "cancelled")]
    assert len(api.calls("GET /batches/b")) == 1  # terminal batches are not polled again


def test_async_wait_many_bounds_concurrency(clock: VirtualClock) -> None:
    in_flight, peak = 0, 0
    polls: dict[str, int] = {}

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0)
        in_flight -= 1
        batch_id = request.url.path.rsplit("/", 1)[-1]
        polls[batch_id] = polls.get(batch_id, 0) + 1
        return ok(batch(id=batch_id, status="completed" if polls[batch_id] >= 3 else "in_progress"))

    client = sf.AsyncSiliconFlow(
        api_key=KEY, base_url=BASE, http_client=httpx.AsyncClient(transport=httpx.MockTransport(handler))
    )
    ids = [f"b{i}" for i in range(40)]
    done = asyncio.run(client.batches.wait_many(ids, poll_interval=1, max_concurrency=5))
    assert [b.id for b in done] == ids
    assert peak <= 5
    assert sum(polls.values()) == 3 * len(ids)  # no storm: exactly the polls needed


# --- results ------------------------------------------------------------------------------------------------


def _line(custom_id: str, *, status: int = 200, error: Any = None) -> bytes:
    body = {"choices": [{"message": {"role": "assistant", "content": f"answer {custom_id}"}}]}
    return (
        json.dumps(
            {
                "id": f"r-{custom_id}",
                "custom_id": custom_id,
                "error": error,
                "response": {"status_code": status, "request_id": "q", "body": body},
            }
        ).encode()
        + b"\n"
    )


DONE = batch(status="completed", output_file_id="file-out", error_file_id="file-err")


def test_results_stream_output_then_error_file(mode: str, api: FakeAPI) -> None:
    api.on("GET /files/file-out/content", stream([_line("a"), _line("b")[:10], _line("b")[10:]]))
    api.on("GET /files/file-err/content", stream([_line("c", status=400, error={"code": "bad", "message": "no"})]))
    results = run(make_client(mode, api).batches.results(sf.Batch.from_dict(DONE)))
    assert [(r.custom_id, r.source, r.line, r.ok) for r in results] == [
        ("a", "output", 1, True),
        ("b", "output", 2, True),
        ("c", "error", 1, False),
    ]
    assert results[0].content == "answer a"
    assert results[2].status_code == 400
    assert results[2].error == {"code": "bad", "message": "no"}


def test_results_account_for_every_input_id_once(mode: str, api: FakeAPI) -> None:
    api.on("GET /files/file-out/content", stream([_line("a"), _line("a"), b"\n"]))
    api.on("GET /files/file-err/content", stream([_line("b", status=500)]))
    results = run(make_client(mode, api).batches.results(sf.Batch.from_dict(DONE), expected_ids=["a", "b", "c"]))
    assert [(r.custom_id, r.source) for r in results] == [("a", "output"), ("b", "error"), ("c", "missing")]
    assert results[2].error is not None
    assert results[2].error["code"] == "missing_result"


def test_each_id_is_let_through_once_in_any_order_and_the_unanswered_are_missing(mode: str, api: FakeAPI) -> None:
    # Rising (b, d, f), then falling back below the top (c, new; b and d, repeats of rising ones; c again, a
    # repeat of a set one), then the error file repeating the top (f) and adding one past it (g).
    out = [_line(i) for i in "bdfcbdc"]
    api.on("GET /files/file-out/content", stream(out))
    api.on("GET /files/file-err/content", stream([_line("f", status=500), _line("g", status=500)]))
    expected = ["a", "b", "c", "d", "e", "f", "g"]
    results = run(make_client(mode, api).batches.results(sf.Batch.from_dict(DONE), expected_ids=expected))
    assert [(r.custom_id, r.source) for r in results] == [
        ("b", "output"), ("d", "output"), ("f", "output"), ("c", "output"), ("g", "error"),
        ("a", "missing"), ("e", "missing"),
    ]  # fmt: skip


def test_results_by_batch_id_fetch_the_batch_first(mode: str, api: FakeAPI) -> None:
    api.on("GET /batches/batch_1", ok({**DONE, "error_file_id": None}))
    api.on("GET /files/file-out/content", stream([_line("a")]))
    assert [r.custom_id for r in run(make_client(mode, api).batches.results("batch_1"))] == ["a"]


def test_result_url_on_another_host_gets_no_key(mode: str, api: FakeAPI) -> None:
    url = "https://results.cdn.test/out/batch_1.jsonl?sig=abc"
    api.on(f"GET {url}", stream([_line("a")]))
    done = sf.Batch.from_dict(batch(status="completed", output_file_id=url))
    assert [r.custom_id for r in run(make_client(mode, api).batches.results(done))] == ["a"]
    (request,) = api.requests
    assert str(request.url) == url
    assert "authorization" not in request.headers


def test_result_url_on_the_api_host_keeps_the_key(mode: str, api: FakeAPI) -> None:
    url = f"{BASE}/files/file-out/content"
    api.on("GET /files/file-out/content", stream([_line("a")]))
    run(make_client(mode, api).batches.results(sf.Batch.from_dict(batch(status="completed", output_file_id=url))))
    assert api.requests[0].headers["authorization"] == f"Bearer {KEY}"


def test_bad_result_line_names_its_line(mode: str, api: FakeAPI) -> None:
    api.on("GET /files/file-out/content", stream([_line("a"), b"{truncated\n", _line("c")]))
    done = sf.Batch.from_dict({**DONE, "error_file_id": None})
    with pytest.raises(sf.ResultLineError, match="output file, line 2: not valid JSON") as caught:
        run(make_client(mode, api).batches.results(done))
    assert caught.value.line == 2


def test_bad_result_lines_can_be_skipped(mode: str, api: FakeAPI) -> None:
    api.on("GET /files/file-out/content", stream([_line("a"), b"[1]\n", b'{"custom_id": null}\n', _line("c")]))
    done = sf.Batch.from_dict({**DONE, "error_file_id": None})
    results = run(make_client(mode, api).batches.results(done, skip_bad_lines=True))
    assert [(r.custom_id, r.line) for r in results] == [("a", 1), ("c", 4)]


def test_a_bom_and_a_numeric_custom_id_do_not_lose_a_result(mode: str, api: FakeAPI) -> None:
    lines = [b"\xef\xbb\xbf" + _line("a"), b'{"custom_id": 42, "response": null}\n']
    api.on("GET /files/file-out/content", stream(lines))
    done = sf.Batch.from_dict({**DONE, "error_file_id": None})
    results = run(make_client(mode, api).batches.results(done))
    assert [(r.custom_id, r.line) for r in results] == [("a", 1), ("42", 2)]


def test_results_resume_after_a_dropped_connection(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    lines = [_line(c) for c in "abcd"]
    api.on("GET /files/file-out/content", stream(lines[:2], fail=True), stream(lines))
    done = sf.Batch.from_dict({**DONE, "error_file_id": None})
    results = run(make_client(mode, api).batches.results(done))
    assert [r.custom_id for r in results] == ["a", "b", "c", "d"]
    assert len(api.requests) == 2


@pytest.mark.parametrize(
    ("before", "after"),
    [
        pytest.param([b"".join(_line(c) for c in "ab") + b'{"custom_id": "c", "resp'], None, id="a break mid-line"),
        pytest.param([_line("a"), _line("b"), _line("c")], [b"".join(_line(c) for c in "abcde")], id="one chunk after"),
    ],
)
def test_results_resume_skipping_exactly_the_lines_read_whatever_the_chunks(
    mode: str, api: FakeAPI, clock: VirtualClock, before: list[bytes], after: list[bytes] | None
) -> None:
    whole = b"".join(_line(c) for c in "abcde")
    again = after if after is not None else [whole[:10], whole[10:]]  # the second read cut inside the first line
    api.on("GET /files/file-out/content", stream(before, fail=True), stream(again))
    done = sf.Batch.from_dict({**DONE, "error_file_id": None})
    results = run(make_client(mode, api).batches.results(done))
    assert [r.custom_id for r in results] == ["a", "b", "c", "d", "e"]
    assert [r.line for r in results] == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("reading", ["results", "download"])
def test_a_body_that_will_not_decode_is_final_not_read_again(
    mode: str, api: FakeAPI, clock: VirtualClock, tmp_path: Path, reading: str
) -> None:
    def undecodable() -> httpx.Response:  # says gzip, is not: the same bytes again fail the same way
        return httpx.Response(200, headers={"Content-Encoding": "gzip"}, stream=BrokenStream([b"plain"], fail=False))

    api.on("GET /files/file-out/content", undecodable(), undecodable())
    client = make_client(mode, api)
    done = sf.Batch.from_dict({**DONE, "error_file_id": None})
    read = (
        (lambda: client.batches.results(done))
        if reading == "results"
        else (lambda: client.files.download("file-out", tmp_path / "out.jsonl"))
    )
    with pytest.raises(sf.APIError, match="cannot mend") as caught:
        run(read())
    assert not isinstance(caught.value, sf.APIConnectionError)  # which a job's loop would wait out
    assert len(api.requests) == 1


def test_results_give_up_after_max_retries(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on("GET /files/file-out/content", stream([_line("a")], fail=True))
    done = sf.Batch.from_dict({**DONE, "error_file_id": None})
    with pytest.raises(sf.APIConnectionError, match="broke off 2 times"):
        run(make_client(mode, api, max_retries=1).batches.results(done))


# --- downloads -----------------------------------------------------------------------------------------------


def test_download_writes_the_whole_file(mode: str, api: FakeAPI, tmp_path: Path) -> None:
    api.on("GET /files/file-out/content", stream([b"line 1\n", b"line 2\n"]))
    target = run(make_client(mode, api).files.download("file-out", tmp_path / "out" / "results.jsonl"))
    assert target.read_bytes() == b"line 1\nline 2\n"
    assert sorted(p.name for p in target.parent.iterdir()) == ["results.jsonl"]


def test_interrupted_download_leaves_no_partial_file(
    mode: str, api: FakeAPI, clock: VirtualClock, tmp_path: Path
) -> None:
    target = tmp_path / "results.jsonl"
    target.write_bytes(b"previous complete download\n")
    api.on("GET /files/file-out/content", stream([b"half of the"], fail=True))
    with pytest.raises(sf.APIConnectionError, match="download broke off"):
        run(make_client(mode, api, max_retries=1).files.download("file-out", target))
    assert target.read_bytes() == b"previous complete download\n"
    assert [p.name for p in tmp_path.iterdir()] == ["results.jsonl"]


def test_download_restarts_after_a_break(mode: str, api: FakeAPI, clock: VirtualClock, tmp_path: Path) -> None:
    api.on("GET /files/file-out/content", stream([b"half"], fail=True), stream([b"whole\n"]))
    target = run(make_client(mode, api).files.download("file-out", tmp_path / "r.jsonl"))
    assert target.read_bytes() == b"whole\n"


def test_download_error_status_writes_nothing(mode: str, api: FakeAPI, tmp_path: Path) -> None:
    with pytest.raises(sf.NotFoundError):
        run(make_client(mode, api).files.download("file-missing", tmp_path / "r.jsonl"))
    assert list(tmp_path.iterdir()) == []
