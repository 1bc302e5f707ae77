"""A job killed with SIGKILL at any of its steps, then run again, ends with exactly one result per request, in input
order, and no (shard, attempt) with two batches on the server: the CLI's ``run``, and the async client's.

The kills are placed, not timed. A reference run of the job counts its steps (every ledger commit, before and
after, and every HTTP exchange: ``crash_runner.py``); then the job is run again from nothing once per chosen step
and killed exactly there. The emulator's clock moves with the requests it answers, not with the wall clock, so
the same job makes the same steps on any machine, however fast or loaded: the sweep kills where it says.
"""

from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path

import pytest

from siliconflow_batch.testing import Emulator

from job_support import assert_tallies_match, batches_per_shard_attempt, write_requests

pytestmark = pytest.mark.slow  # real processes

REQUESTS = 300  # three shards of 100
RUNNER = Path(__file__).with_name("crash_runner.py")
# Kill points per mode, spread over every step, the first of each kind included.
SWEEP = {"cli": 60, "async": 30, "sync": 30}
RANDOM_KILLS = 4  # and a few at random steps, judged on correctness alone


class RequestClock:
    """Virtual time that advances a little with each request the emulator answers: batches move as the job
    polls, so the job's steps depend on what it sends, never on how fast the machine runs it."""

    def __init__(self, step: float = 0.25) -> None:
        self._now = 1_800_000_000.0
        self._step = step
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            self._now += self._step
            return self._now


@contextmanager
def _emulator() -> Iterator[tuple[Emulator, str]]:
    """A fresh emulator, the same for every run: one shard expires midway, some lines fail and are sent again."""
    emulator = Emulator(clock=RequestClock(), stage_seconds=1.0, line_failures={"rate_limit": 0.05, "invalid": 0.02})
    emulator.faults.expire_next(fraction=0.5)
    with emulator.serve() as server:
        yield emulator, server.url


def _args(mode: str, url: str, source: Path, job_dir: Path, output: Path, concurrency: int = 1) -> list[str]:
    # One shard at a time makes the same steps every run (the CLI runs the job on the async client too); more is
    # for the random kills.
    if mode in ("async", "sync"):
        return [url, str(source), str(job_dir), str(output), str(concurrency)]
    return [
        "run", str(source), "--job-dir", str(job_dir), "--output", str(output), "--shard-lines", "100",
        "--poll-interval", "0.001", "--max-poll-interval", "0.001", "--base-url", url, "--api-key", "sk-emulator",
        "--max-concurrency", str(concurrency),
    ]  # fmt: skip


def _run(mode: str, args: list[str], events: Path, kill_at: int | None) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, str(RUNNER), str(events), "-" if kill_at is None else str(kill_at), mode, *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def _steps(events: Path) -> list[str]:
    return events.read_text().splitlines() if events.exists() else []


def _kill_points(steps: list[str], count: int) -> list[int]:
    """``count`` step numbers (1-based) spread evenly over ``steps``, plus the first step of each kind."""
    firsts = {name: i for i, name in reversed(list(enumerate(steps, 1)))}
    spread = {round(1 + k * (len(steps) - 1) / max(count - 1, 1)) for k in range(count)}
    return sorted(spread | set(firsts.values()))


def _trial(mode: str, tmp: Path, name: str, kill_at: int, concurrency: int = 1) -> str:
    """Kill a fresh job at step ``kill_at``, run it again to the end, check the promise; return the killed step.

    With ``concurrency`` above 1 (the async client's shards in flight at once) the steps' order varies between
    runs, so the kill may land anywhere, or after the end: only the promise is judged then.
    """
    source = write_requests(tmp / f"{name}.in.jsonl", REQUESTS)
    job_dir, output, events = tmp / name, tmp / f"{name}.out.jsonl", tmp / f"{name}.events"
    with _emulator() as (emulator, url):
        args = _args(mode, url, source, job_dir, output, concurrency)
        killed = _run(mode, args, events, kill_at)
        steps = _steps(events)
        if concurrency == 1:
            assert killed.returncode == -9, (name, kill_at, len(steps), killed.stderr[-2000:])
            assert len(steps) == kill_at
        else:
            assert killed.returncode in (-9, 0), killed.stderr[-2000:]
        rerun = _run(mode, args, tmp / f"{name}.rerun.events", None)
        assert rerun.returncode == 0, (name, steps[-1], rerun.stderr[-2000:])
        lines = [json.loads(line) for line in output.read_text().splitlines()]
        assert [line["custom_id"] for line in lines] == [f"r{i}" for i in range(REQUESTS)], (name, steps[-1])
        assert all(line["attempts"] >= 1 for line in lines)
        per_shard = batches_per_shard_attempt(emulator, name)
        assert set(per_shard.values()) == {1}, (name, steps[-1], per_shard)
        assert len(per_shard) >= 4, per_shard  # three shards, and at least one resubmission
        assert_tallies_match(job_dir)  # what the status counts, kept through the kill, is what the requests say
    return steps[-1]


def _reference(mode: str, tmp: Path) -> list[str]:
    """The steps of the job run once without a kill (and that it keeps the promise)."""
    source = write_requests(tmp / "ref.in.jsonl", REQUESTS)
    with _emulator() as (emulator, url):
        done = _run(mode, _args(mode, url, source, tmp / "ref", tmp / "ref.out.jsonl"), tmp / "ref.events", None)
        assert done.returncode == 0, done.stderr
        assert set(batches_per_shard_attempt(emulator, "ref").values()) == {1}
    return _steps(tmp / "ref.events")


def _sweep(trials: list[Callable[[], str]]) -> list[str]:
    with ThreadPoolExecutor(max_workers=2) as pool:  # two jobs at a time: each is a process of its own
        return list(pool.map(lambda trial: trial(), trials))


# About 45 s alone, twice that beside another heavy job: more than the suite's 120 s default allows for.
@pytest.mark.timeout(600)
@pytest.mark.parametrize("mode", ["cli", "async", "sync"])
def test_a_run_killed_at_every_kind_of_step_resumes_with_nothing_lost_or_duplicated(mode: str, tmp_path: Path) -> None:
    steps = _reference(mode, tmp_path)
    kinds = set(steps)
    # The reference job makes every kind of step the promise depends on.
    assert {"commit", "committed", "http POST /v1/files", "http POST /v1/batches"} <= kinds, kinds
    assert any(kind.startswith("http GET /results/") for kind in kinds), kinds  # a result file, by its signed URL
    assert len(steps) >= 60, len(steps)
    points = _kill_points(steps, SWEEP[mode])
    assert len(points) >= SWEEP[mode]
    rng = random.Random(20261201)
    randoms = [rng.randint(1, len(steps)) for _ in range(RANDOM_KILLS)]
    concurrency = 4  # the random kills send 4 shards at once (the CLI's --max-concurrency, the client's option)

    def trial(index: int, kill_at: int, concurrency: int = 1) -> Callable[[], str]:
        return lambda: _trial(mode, tmp_path, f"job{index}", kill_at, concurrency)

    trials = [trial(i, point) for i, point in enumerate(points)]
    trials += [trial(len(points) + i, point, concurrency) for i, point in enumerate(randoms)]
    killed_at = _sweep(trials)[: len(points)]
    # Every kind of step the reference made was killed at least once (the same job makes the same steps).
    assert set(killed_at) == kinds, kinds - set(killed_at)


def test_the_kill_points_cover_every_kind_and_spread_over_the_run() -> None:
    steps = ["commit", "committed"] * 40 + ["http GET /files/file-ID/content"] + ["commit", "committed"] * 10
    points = _kill_points(steps, 10)
    assert points[0] == 1
    assert points[-1] == len(steps)
    assert 81 in points  # the only download
    assert len(points) >= 10
