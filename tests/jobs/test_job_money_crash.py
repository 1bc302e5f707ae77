"""A capped job killed with SIGKILL at its steps: committed is never above the cap in any ledger state it reaches,
the same command ends held at the shard the reference run stopped at, and a higher cap sends exactly the rest."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import pytest
from test_job_crash import REQUESTS, RUNNER, _args, _emulator, _kill_points, _steps

from siliconflow_batch.estimate import estimate
from siliconflow_batch.pricing import PriceTable

from job_support import batches_per_shard_attempt, request, write_requests

pytestmark = pytest.mark.slow  # real processes

KILLS = 14


def _cap() -> Decimal:
    """Room for one shard and a half: the next waits for it, then finds that what it spent leaves too little (the
    output bound is near what the emulator answers), and is held."""
    bound = estimate([request(i, max_tokens=10) for i in range(100)], PriceTable.load()).cost_high
    assert bound is not None
    return (bound * Decimal("1.5")).quantize(Decimal("0.000001"))


def _run(args: list[str], events: Path, kill_at: int | None, job_dir: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(RUNNER), str(events), "-" if kill_at is None else str(kill_at), "cli", *args]
    env = {**os.environ, "CAP_LEDGER": str(job_dir / "ledger.sqlite")}
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False, env=env)


def _outcomes(output: Path) -> list[str]:
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [line["custom_id"] for line in lines] == [f"r{i}" for i in range(REQUESTS)]
    return ["budget" if (line.get("error") or {}).get("code") == "budget" else "sent" for line in lines]


def _breaches(events: Path) -> str:
    cap = Path(f"{events}.cap")
    return cap.read_text() if cap.exists() else ""


def _trial(tmp: Path, name: str, kill_at: int | None, cap: Decimal) -> tuple[str, list[str]]:
    """Run the capped job (killed at ``kill_at``), run it again, then with a higher cap; check every promise."""
    source = write_requests(tmp / f"{name}.in.jsonl", REQUESTS, max_tokens=10)
    job_dir, output, events = tmp / name, tmp / f"{name}.out.jsonl", tmp / f"{name}.events"
    with _emulator() as (emulator, url):
        args = [*_args("cli", url, source, job_dir, output), "--max-cost", str(cap)]
        killed = _run(args, events, kill_at, job_dir)
        if kill_at is not None:
            assert killed.returncode == -9, (name, kill_at, killed.stderr[-2000:])
            rerun = _run(args, tmp / f"{name}.rerun.events", None, job_dir)
        else:
            rerun = killed
        assert rerun.returncode == 0, (name, rerun.stderr[-2000:])
        held = _outcomes(output)
        assert not _breaches(events), _breaches(events)
        assert not _breaches(tmp / f"{name}.rerun.events")
        before = batches_per_shard_attempt(emulator, name)
        higher = [*args[:-1], "100"]
        done = _run(higher, tmp / f"{name}.higher.events", None, job_dir)
        assert done.returncode == 0, done.stderr[-2000:]
        assert set(_outcomes(output)) == {"sent"}
        after = batches_per_shard_attempt(emulator, name)
        assert set(after.values()) == {1}, after  # no (shard, attempt) with two batches, kill or not
        assert set(before) <= set(after)
    last = _steps(events)[-1] if kill_at is not None else ""
    return last, held


@pytest.mark.timeout(600)
def test_a_capped_job_killed_anywhere_never_commits_past_its_cap_and_resumes_at_the_same_shard(tmp_path: Path) -> None:
    cap = _cap()
    _, reference = _trial(tmp_path, "ref", None, cap)
    assert "budget" in reference  # the cap held something back
    assert "sent" in reference
    steps = _steps(tmp_path / "ref.events")
    points = _kill_points(steps, KILLS)

    def trial(args: tuple[int, int]) -> tuple[str, list[str]]:
        return _trial(tmp_path, f"job{args[0]}", args[1], cap)

    with ThreadPoolExecutor(max_workers=2) as pool:  # two jobs at a time: each is a process of its own
        found = list(pool.map(trial, enumerate(points)))
    for killed_at, held in found:  # killed anywhere, the job is held exactly where the reference was
        assert held == reference, killed_at
