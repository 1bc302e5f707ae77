"""A job a round at a time (``step``), its batches from the ledger (``batches``), and what outlives a process:
the grace for result files that 404, and when the job began (``started_at``)."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import pytest

import siliconflow_batch as sf
from siliconflow_batch._jobs.ledger import LEDGER_NAME, Ledger
from siliconflow_batch.testing import Emulator, VirtualClock

from fakes import run
from job_support import client_for, write_requests


def test_step_makes_one_round_and_returns_the_status(
    mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path
) -> None:
    client = client_for(mode, emulator)
    job = run(client.jobs.submit(write_requests(tmp_path / "in.jsonl", 20), job_dir=tmp_path / "job",
                                 max_shard_lines=10))  # fmt: skip
    before = clock.now
    status = run(job.step())
    assert not status.done
    assert status.batches == {"in_queue": 2}
    assert clock.now == before  # one round: nothing was waited for
    clock.advance(100)  # every batch completes on the server
    status = run(job.step())
    assert status.done
    assert status.succeeded == 20
    assert all(r.ok and r.attempts == 1 for r in run(job.results()))
    assert len(emulator.batches()) == 2
    job.close()


def test_step_takes_the_lock_as_wait_does(mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path) -> None:
    client = client_for(mode, emulator)
    job = run(client.jobs.submit(write_requests(tmp_path / "in.jsonl", 4), job_dir=tmp_path / "job"))
    run(job.step())
    other = run(client.jobs.open(tmp_path / "job"))
    with pytest.raises(sf.JobLockedError):
        run(other.step())
    assert run(other.batches()) == run(job.batches())  # reading needs no lock
    other.close()
    job.close()


def test_wait_repeats_the_round_that_step_makes(
    mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = client_for(mode, emulator)
    job = run(client.jobs.submit(write_requests(tmp_path / "in.jsonl", 4), job_dir=tmp_path / "job"))
    rounds: list[sf.JobStatus] = []
    original = type(job)._round

    def counted(self: Any) -> Any:
        result = original(self)
        if not hasattr(result, "__await__"):
            rounds.append(result)
            return result

        async def awaited() -> Any:
            rounds.append(await result)
            return rounds[-1]

        return awaited()

    monkeypatch.setattr(type(job), "_round", counted)
    status = run(job.wait(poll_interval=5))
    assert status.done
    assert len(rounds) > 1
    assert rounds[-1] == status
    job.close()


def test_batches_lists_the_jobs_shards_from_the_ledger_without_a_request(
    mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path
) -> None:
    emulator._engine.line_failures.update({"rate_limit": 1.0})  # every line comes back once: a second attempt
    client = client_for(mode, emulator)
    job = run(client.jobs.submit(write_requests(tmp_path / "in.jsonl", 6), job_dir=tmp_path / "job",
                                 max_shard_lines=3, max_attempts=2))  # fmt: skip
    asked = sum(emulator.requests.values())
    batches = run(job.batches())
    assert sum(emulator.requests.values()) == asked
    server = {b["id"] for b in emulator.batches()}
    assert [(b.shard, b.attempt, b.state, b.running) for b in batches] == [
        (1, 1, "created", True), (2, 1, "created", True),
    ]  # fmt: skip
    assert {b.batch_id for b in batches} == server
    clock.advance(100)
    run(job.step())  # collects both, cuts the second attempts and sends them
    asked = sum(emulator.requests.values())
    batches = run(job.batches())
    assert sum(emulator.requests.values()) == asked  # read from the ledger: no request
    assert [(b.shard, b.attempt, b.state) for b in batches] == [
        (1, 1, "ingested"), (2, 1, "ingested"), (3, 2, "created"), (4, 2, "created"),
    ]  # fmt: skip
    assert [b.status for b in batches][:2] == ["completed", "completed"]
    assert (batches[0].ended, batches[0].running, batches[2].running) == (True, False, True)
    assert {b.batch_id for b in batches[2:]}.isdisjoint(server)
    assert batches[0].to_dict() == {
        "shard": 1, "attempt": 1, "batch_id": batches[0].batch_id, "status": "completed", "state": "ingested",
    }  # fmt: skip
    job.close()


def test_the_grace_for_a_missing_result_file_goes_on_across_processes(
    mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path
) -> None:
    emulator.faults.result_not_found(times=10**6)  # the output file never appears
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 4)
    job = run(client.jobs.submit(source, job_dir=tmp_path / "job", max_attempts=2))
    clock.advance(100)  # the batch completes; its output file answers 404
    status = run(job.step(result_grace=120))
    assert not status.done
    assert [b.state for b in run(job.batches())] == ["ended"]
    job.close()

    clock.advance(60)  # another process, within the grace: the first miss is kept, not this one
    job = run(client.jobs.open(tmp_path / "job"))
    run(job.step(result_grace=120))
    assert [b.state for b in run(job.batches())] == ["ended"]
    job.close()

    clock.advance(70)  # 130 s since the first miss, 70 s since this process's: the grace is over
    job = run(client.jobs.open(tmp_path / "job"))
    run(job.step(result_grace=120))
    assert [(b.attempt, b.state) for b in run(job.batches())] == [(1, "ingested"), (2, "created")]  # sent again
    job.close()


def test_a_ledger_from_before_gains_the_missing_since_column(tmp_path: Path) -> None:
    path = tmp_path / LEDGER_NAME
    old = sqlite3.connect(path)
    old.execute(
        "CREATE TABLE shards (id INTEGER PRIMARY KEY, attempt INTEGER NOT NULL, model TEXT NOT NULL, "
        "lines INTEGER NOT NULL, bytes INTEGER NOT NULL, state TEXT NOT NULL, file_id TEXT, batch_id TEXT, "
        "status TEXT, output_ref TEXT, error_ref TEXT)"
    )
    old.execute("INSERT INTO shards VALUES (1, 1, 'm', 2, 10, 'ended', 'f', 'b', 'completed', 'o', NULL)")
    old.commit()
    old.close()
    ledger = Ledger(path)
    shard = ledger.shard(1)
    assert shard is not None
    assert shard.missing_since is None
    assert ledger.missed_files(1, 50.0) == 50.0
    assert ledger.missed_files(1, 80.0) == 50.0  # the first miss is kept
    assert ledger.shard(1).missing_since == 50.0  # type: ignore[union-attr]
    ledger.close()


def test_started_at_is_kept_across_resumes(mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path) -> None:
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 4)
    began = clock.now
    job = run(client.jobs.submit(source, job_dir=tmp_path / "job"))
    assert job.started_at == began
    job.close()
    assert job.started_at == began  # still readable once closed
    clock.advance(500)
    job = run(client.jobs.submit(source, job_dir=tmp_path / "job"))  # resumed: the same start
    assert job.started_at == began
    job.close()


def test_a_recovered_job_began_with_its_first_batch(
    mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path
) -> None:
    client = client_for(mode, emulator)
    source = write_requests(tmp_path / "in.jsonl", 4)
    began = clock.now
    job = run(client.jobs.submit(source, job_dir=tmp_path / "job", job_id="nightly"))
    job.close()
    clock.advance(500)
    recovered = run(client.jobs.recover(source, job_id="nightly", job_dir=tmp_path / "elsewhere"))
    assert recovered.started_at == began
    recovered.close()


def test_a_job_from_before_has_no_start(mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path) -> None:
    client = client_for(mode, emulator)
    job = run(client.jobs.submit(write_requests(tmp_path / "in.jsonl", 4), job_dir=tmp_path / "job"))
    job.close()
    ledger = Ledger(tmp_path / "job" / LEDGER_NAME)
    ledger._db.execute("DELETE FROM meta WHERE key = 'started_at'")  # as a ledger written before it was kept
    ledger.close()
    job = run(client.jobs.open(tmp_path / "job"))
    assert job.started_at is None
    job.close()
