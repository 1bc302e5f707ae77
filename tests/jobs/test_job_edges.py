"""Edges of a job, each pinned by a test that a deliberate bug fails.

An interrupted ``write_results`` keeps the old file; a crash between a create and its record is resumed without a
second batch; the shard limits are refused one past the vendor's, with a message naming the option; the job's
own metadata pairs stop at 10.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest

import siliconflow_batch as sf
from siliconflow_batch._jobs.input import ShardLimits
from siliconflow_batch._jobs.ledger import LEDGER_NAME, Ledger, ShardState
from siliconflow_batch.testing import Emulator
from siliconflow_batch.validation import MAX_FILE_BYTES, MAX_LINES

from fakes import run
from job_support import batches_per_shard_attempt, client_for, write_requests


class Crash(BaseException):
    """The process dying at that instant: nothing after it runs (not an error the job could handle)."""


class Boom(Exception):
    """A failure in the middle of writing the results."""


# --- write_results is atomic ------------------------------------------------------------------------------------


def test_write_results_that_fail_midway_leave_the_old_file_whole_and_no_temporary_file(
    mode: str, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(mode, emulator)
    job = run(client.jobs.run(write_requests(tmp_path / "in.jsonl", 6), job_dir=tmp_path / "job", poll_interval=5))
    done = run(job.results())
    assert len(done) == 6
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "results.jsonl"
    target.write_bytes(b"the old results\n")

    def broken(partial: bool = False) -> Iterator[bytes]:
        yield from (json.dumps(result.to_dict()).encode() for result in done[:3])
        raise Boom("the disk went away")

    monkeypatch.setattr(job, "_merged_lines", broken)
    with pytest.raises(Boom):
        run(job.write_results(target))
    assert target.read_bytes() == b"the old results\n"  # not truncated, not half-written
    assert list(folder.iterdir()) == [target]  # the temporary file is gone too

    monkeypatch.undo()
    assert run(job.write_results(target)) == 6
    assert len(target.read_text().splitlines()) == 6
    assert list(folder.iterdir()) == [target]
    job.close()


# --- a crash in "creating" ---------------------------------------------------------------------------------------


def test_a_crash_after_the_create_reached_the_server_is_resumed_by_its_key_without_a_second_batch(
    mode: str, emulator: Emulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The create of shard 2 reaches the server, the process dies before the ledger records it: still "creating"."""
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 12)
    job_dir = tmp_path / "job"
    record = Ledger.created
    crashed: list[int] = []

    def created(self: Ledger, shard_id: int, batch_id: str, status: str, done: int = 0) -> None:
        if shard_id == 2 and not crashed:  # the record of shard 2's created batch
            crashed.append(shard_id)
            raise Crash
        record(self, shard_id, batch_id, status, done)

    monkeypatch.setattr(Ledger, "created", created)
    with pytest.raises(Crash):
        run(client.jobs.submit(source, job_dir=job_dir, max_shard_lines=5))
    assert crashed == [2]
    before = batches_per_shard_attempt(emulator, "job")  # (the async client sends shard 3 at the same time)
    assert ("2", "1") in before  # shard 2's batch exists
    assert set(before.values()) == {1}
    ledger = Ledger(job_dir / LEDGER_NAME)
    assert (2, None) in [(s.id, s.batch_id) for s in ledger.shards(ShardState.CREATING)]  # ... but is not recorded
    ledger.close()

    job = run(client.jobs.submit(source, job_dir=job_dir, max_shard_lines=5))  # a new process, the same call
    assert batches_per_shard_attempt(emulator, job.id) == Counter({("1", "1"): 1, ("2", "1"): 1, ("3", "1"): 1})
    run(job.wait(poll_interval=5))
    assert [r.custom_id for r in run(job.results())] == [f"r{i}" for i in range(12)]
    assert len(emulator.batches()) == 3
    job.close()


# --- the shard limits ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lines", "size", "refused"),
    [
        pytest.param(MAX_LINES, MAX_FILE_BYTES, None, id="5000-lines-and-1GB-pass"),
        pytest.param(1, 1, None, id="1-line-and-1-byte-pass"),
        pytest.param(MAX_LINES + 1, 1024, "max_shard_lines", id="5001-lines-refused"),
        pytest.param(0, 1024, "max_shard_lines", id="0-lines-refused"),
        pytest.param(10, MAX_FILE_BYTES + 1, "max_shard_bytes", id="1GB-plus-1-byte-refused"),
        pytest.param(10, 0, "max_shard_bytes", id="0-bytes-refused"),
    ],
)
def test_shard_limits_stop_exactly_at_the_vendors(lines: int, size: int, refused: str | None) -> None:
    problems = ShardLimits(lines, size).problems()
    if refused is None:
        assert problems == []
        return
    (problem,) = problems
    assert problem.field == refused
    limit = MAX_LINES if refused == "max_shard_lines" else MAX_FILE_BYTES
    assert problem.message == f"must be between 1 and {limit}, got {lines if refused == 'max_shard_lines' else size}"


def test_a_job_with_5001_shard_lines_is_refused_naming_the_option_before_anything_is_sent(
    mode: str, emulator: Emulator, tmp_path: Path
) -> None:
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 3)
    with pytest.raises(sf.InputValidationError) as caught:
        run(client.jobs.submit(source, job_dir=tmp_path / "job", max_shard_lines=MAX_LINES + 1))
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("max_shard_lines", f"must be between 1 and {MAX_LINES}, got {MAX_LINES + 1}")
    ]
    assert emulator.files() == []
    assert emulator.batches() == []
    job = run(client.jobs.submit(source, job_dir=tmp_path / "job2", max_shard_lines=MAX_LINES))  # the edge itself
    assert len(emulator.batches()) == 1
    job.close()


@pytest.mark.parametrize(
    ("pairs", "ok"), [pytest.param(10, True, id="10-pairs-pass"), pytest.param(11, False, id="11-pairs-refused")]
)
def test_a_jobs_own_metadata_stops_at_10_pairs(
    mode: str, emulator: Emulator, tmp_path: Path, pairs: int, ok: bool
) -> None:
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 3)
    metadata = {f"k{i}": "v" for i in range(pairs)}
    if ok:
        job = run(client.jobs.submit(source, job_dir=tmp_path / "job", metadata=metadata))
        (created,) = emulator.batches()
        assert len(created["metadata"]) == 16  # the vendor's limit, reached exactly: 10 + the job's 6
        job.close()
        return
    with pytest.raises(sf.InputValidationError) as caught:
        run(client.jobs.submit(source, job_dir=tmp_path / "job", metadata=metadata))
    assert [(p.field, p.message) for p in caught.value.problems] == [
        ("metadata", "has 11 pairs; a job's batches carry 6 of their own, so at most 10 are yours")
    ]
    assert emulator.files() == []
