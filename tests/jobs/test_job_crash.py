"""A job killed with SIGKILL at a random instant, then run again, ends with exactly one result per request,
in input order, and no (shard, attempt) with two batches on the server: the CLI's ``run``, and the async client."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from siliconflow_batch.testing import Emulator

from job_support import batches_per_shard_attempt, write_requests

pytestmark = pytest.mark.slow  # real processes and real seconds

TRIALS = 30
REQUESTS = 300


ASYNC_RUN = """
import asyncio, sys
from siliconflow_batch import AsyncSiliconFlow

async def main(url, source, job_dir, output):
    async with AsyncSiliconFlow(api_key="sk-emulator", base_url=url) as client:
        job = await client.jobs.run(source, job_dir=job_dir, max_shard_lines=100, poll_interval=0.02,
                                    max_poll_interval=0.05)
        async with job:
            await job.write_results(output)

asyncio.run(main(*sys.argv[1:]))
"""


def _command(mode: str, url: str, source: Path, job_dir: Path, output: Path) -> list[str]:
    if mode == "async":  # the async client's engine, in a script of a team's own
        return [sys.executable, "-c", ASYNC_RUN, url, str(source), str(job_dir), str(output)]
    return [
        sys.executable, "-m", "siliconflow_batch", "run", str(source), "--job-dir", str(job_dir),
        "--output", str(output), "--shard-lines", "100", "--poll-interval", "0.02", "--max-poll-interval", "0.05",
        "--base-url", url, "--api-key", "sk-emulator",
    ]  # fmt: skip


def _phase(job_dir: Path, output: Path) -> str:
    """Where the killed run was, as its ledger tells."""
    ledger = job_dir / "ledger.sqlite"
    if not ledger.exists():
        return "starting"
    with sqlite3.connect(ledger) as db:
        try:
            ready = db.execute("SELECT value FROM meta WHERE key = 'ready'").fetchone()
            states = {state for (state,) in db.execute("SELECT DISTINCT state FROM shards")}
        except sqlite3.OperationalError:  # killed between creating the file and its tables
            return "starting"
    if ready is None:
        return "splitting"
    for state, phase in (("uploading", "uploading"), ("written", "uploading"), ("creating", "creating")):
        if state in states:
            return phase
    if "ended" in states:
        return "downloading"
    if "created" in states:
        return "waiting"
    return "merging" if not output.exists() else "finished"


@pytest.mark.parametrize("mode", ["cli", "async"])
def test_a_run_killed_at_any_instant_resumes_with_nothing_lost_or_duplicated(mode: str, tmp_path: Path) -> None:
    emulator = Emulator(stage_seconds=0.03, line_failures={"rate_limit": 0.05, "invalid": 0.02})
    rng = random.Random(20261201)
    phases: Counter[str] = Counter()
    with emulator.serve() as server:
        for trial in range(TRIALS):
            emulator.faults.expire_next(fraction=0.5)  # one shard of each job expires midway
            source = write_requests(tmp_path / f"in{trial}.jsonl", REQUESTS)
            job_dir, output = tmp_path / f"job{trial}", tmp_path / f"out{trial}.jsonl"
            command = _command(mode, server.url, source, job_dir, output)
            process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            time.sleep(rng.uniform(0.25, 1.1))  # the interpreter starts in about 0.3 s; the job takes about 1 s
            os.kill(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
            phases[_phase(job_dir, output)] += 1
            rerun = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
            assert rerun.returncode == 0, rerun.stderr
            lines = [json.loads(line) for line in output.read_text().splitlines()]
            assert [line["custom_id"] for line in lines] == [f"r{i}" for i in range(REQUESTS)], trial
            assert all(line["attempts"] >= 1 for line in lines)
            per_shard = batches_per_shard_attempt(emulator, f"job{trial}")
            assert set(per_shard.values()) == {1}, (trial, per_shard)
            assert len(per_shard) >= 3
    print(f"\n{mode}: kill landed in: {dict(phases)}")
    assert len(phases) >= 4, phases  # the kills were spread over the job's phases
