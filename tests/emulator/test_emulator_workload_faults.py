"""The emulator's faults for workloads: a batch that expires midway, per-line failures, result files as URLs."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch.testing import Emulator, VirtualClock

MODEL = "deepseek-ai/DeepSeek-V3"


def _requests(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "in.jsonl"
    lines = [
        {"custom_id": f"r{i}", "body": {"model": MODEL, "messages": [{"role": "user", "content": f"q{i}"}]}}
        for i in range(count)
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


def _client(emulator: Emulator, sent: list[httpx.Request] | None = None) -> sf.SiliconFlow:
    """A client on the in-process transport; every request it sends is appended to ``sent``."""
    hooks = {"request": [sent.append]} if sent is not None else {}
    http = httpx.Client(transport=emulator.transport(), event_hooks=hooks)
    return sf.SiliconFlow(api_key=emulator.api_key, base_url="http://emulator/v1", http_client=http)


def _run(
    emulator: Emulator, tmp_path: Path, count: int, sent: list[httpx.Request] | None = None
) -> tuple[sf.Batch, list[sf.BatchResult]]:
    with _client(emulator, sent) as client:
        batch = client.batches.create(input_file_id=client.files.upload(_requests(tmp_path, count)).id)
        done = client.batches.wait(batch.id, poll_interval=5)
        return done, list(client.batches.results(done, expected_ids=[f"r{i}" for i in range(count)]))


def test_a_batch_can_expire_midway_as_the_vendor_does(clock: VirtualClock, tmp_path: Path) -> None:
    emulator = Emulator(clock=clock.time, stage_seconds=10)
    emulator.faults.expire_next(fraction=0.5)
    done, results = _run(emulator, tmp_path, 100)
    assert done.status == "expired"
    by_source = Counter(r.source for r in results)
    assert by_source == {"output": 50, "error": 50}
    expired = [r for r in results if r.source == "error"]
    assert {r.error["code"] for r in expired if r.error} == {"batch_expired"}
    assert [r.custom_id for r in results if r.ok] == [f"r{i}" for i in range(50)]  # the done part is kept
    assert done.counts == (100, 50, 50)
    assert emulator.faults.expirations == []  # one batch only
    again, _ = _run(emulator, tmp_path, 10)
    assert again.status == "completed"


def test_per_line_failures_are_drawn_per_batch_and_line(clock: VirtualClock, tmp_path: Path) -> None:
    rates = {"rate_limit": 0.2, "overloaded": 0.1, "invalid": 0.1}
    emulator = Emulator(clock=clock.time, stage_seconds=10, line_failures=rates)
    _, first = _run(emulator, tmp_path, 1000)
    statuses = Counter(r.status_code for r in first)
    assert 150 <= statuses[429] <= 250
    assert 60 <= statuses[503] <= 140
    assert 60 <= statuses[400] <= 140
    assert statuses[200] == 1000 - statuses[429] - statuses[503] - statuses[400]
    overloaded = next(r for r in first if r.status_code == 503)
    assert overloaded.body is not None
    assert overloaded.body["error"]["code"] == 50505
    _, second = _run(emulator, tmp_path, 1000)  # a resubmission draws again: not the same lines fail
    failed_first = {r.custom_id for r in first if not r.ok}
    failed_second = {r.custom_id for r in second if not r.ok}
    assert failed_first != failed_second
    assert len(failed_first & failed_second) < len(failed_first) / 2


def test_unknown_line_failures_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown line failures"):
        Emulator(line_failures={"gremlins": 0.5})


def test_result_files_are_signed_urls_on_another_origin_fetched_without_the_key(
    clock: VirtualClock, tmp_path: Path
) -> None:
    emulator = Emulator(clock=clock.time, stage_seconds=10)  # the default, as the vendor gives them
    sent: list[httpx.Request] = []
    done, results = _run(emulator, tmp_path, 5, sent)
    assert isinstance(done.output_file_id, str)
    pattern = r"http://emulator-files/results/(file-\w+)/batch_\w+_output\.jsonl\?Signature=\w{32}"
    url = re.fullmatch(pattern, done.output_file_id)
    assert url is not None
    assert done.error_file_id == ""  # no error lines: the vendor's empty string, not a file
    assert [r.custom_id for r in results] == [f"r{i}" for i in range(5)]
    assert all(r.ok for r in results)
    downloads = [r for r in sent if r.url.host == "emulator-files"]
    assert len(downloads) == 1
    assert "authorization" not in downloads[0].headers  # the key never leaves the API's origin
    with _client(emulator) as client:
        saved = client.files.download(done.output_file_id, tmp_path / "out.jsonl")
        assert len(saved.read_text().splitlines()) == 5
        by_id = client.files.download(url.group(1), tmp_path / "by-id.jsonl")  # by id, with the key: served too
        assert by_id.read_bytes() == saved.read_bytes()


def test_result_files_are_plain_ids_when_asked(clock: VirtualClock, tmp_path: Path) -> None:
    emulator = Emulator(clock=clock.time, stage_seconds=10, result_urls=False)
    done, results = _run(emulator, tmp_path, 5)
    assert isinstance(done.output_file_id, str)
    assert re.fullmatch(r"file-\w+", done.output_file_id)
    assert all(r.ok for r in results)
    assert emulator.requests[f"GET /files/{done.output_file_id}/content"] == 1


def test_every_result_carries_usage(clock: VirtualClock, tmp_path: Path) -> None:
    _, results = _run(Emulator(clock=clock.time, stage_seconds=10), tmp_path, 3)
    assert [r.custom_id for r in results] == ["r0", "r1", "r2"]  # not vacuous: every line, each with its usage
    for result in results:
        assert result.body is not None
        usage = result.body["usage"]
        assert usage["prompt_tokens"] > 0
        assert usage["completion_tokens"] > 0
        assert usage["total_tokens"] == usage["prompt_tokens"] + usage["completion_tokens"]
