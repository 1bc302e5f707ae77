"""A command killed at any instant leaves nothing half-written, and the same command run again finishes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

import siliconflow_batch as sf
from siliconflow_batch.testing import Emulator, RunningServer

from cli_support import write_requests

pytestmark = pytest.mark.slow  # real processes and real seconds


def _command(url: str, *args: str) -> list[str]:
    return [sys.executable, "-m", "siliconflow_batch", *args, "--base-url", url, "--api-key", "sk-emulator"]


def test_results_killed_mid_download_leave_no_partial_file_and_a_rerun_completes(tmp_path: Path) -> None:
    emulator = Emulator(stage_seconds=0.05)
    with emulator.serve() as server:
        batch_id = _finished_batch(emulator, server, tmp_path)
        emulator.faults.slow_seconds = 30.0
        # The download hangs: a kill lands mid-transfer. Results come from their URLs, as the vendor gives them.
        emulator.faults.inject("slow", route="GET /results/")
        target = tmp_path / "out" / "results.jsonl"
        target.parent.mkdir()
        process = subprocess.Popen(_command(server.url, "results", batch_id, "--output", str(target)))
        deadline = time.monotonic() + 20
        while emulator.faults.injected["slow"] == 0 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the download has started
        assert emulator.faults.injected["slow"] == 1
        os.kill(process.pid, signal.SIGKILL)
        process.wait(timeout=10)
        assert not target.exists()  # never a half-written results file
        rerun = subprocess.run(
            _command(server.url, "results", batch_id, "--output", str(target)), timeout=60, check=False
        )
        assert rerun.returncode == 0
        assert len(target.read_text().splitlines()) == 6


def _finished_batch(emulator: Emulator, server: RunningServer, tmp_path: Path) -> str:
    with sf.SiliconFlow(api_key=emulator.api_key, base_url=server.url) as client:
        file = client.files.upload(write_requests(tmp_path / "in.jsonl"))
        batch = client.batches.create(input_file_id=file.id)
        return client.batches.wait(batch.id, poll_interval=0.05, timeout=30).id


def test_a_job_is_locked_against_a_second_process_and_resumes_after_ctrl_c(tmp_path: Path) -> None:
    emulator = Emulator(stage_seconds=0.5)
    with emulator.serve() as server:
        source = write_requests(tmp_path / "in.jsonl", 20)
        job_dir = tmp_path / "job"
        run = _command(server.url, "run", str(source), "--job-dir", str(job_dir), "--poll-interval", "0.1")
        process = subprocess.Popen(run, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 20
        while not emulator.batches() and time.monotonic() < deadline:
            time.sleep(0.05)  # until the job's batch exists: the run is waiting on it
        second = subprocess.run(
            _command(server.url, "job", "wait", str(job_dir)), capture_output=True, text=True, timeout=60, check=False
        )
        assert second.returncode == 1
        assert "another process is working on the job" in second.stderr
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=20)
        assert process.returncode == 130
        assert "interrupted: nothing is lost" in err
        assert f"--job-dir {job_dir}" in err
        rerun = subprocess.run(run, capture_output=True, text=True, timeout=60, check=False)
        assert rerun.returncode == 0, rerun.stderr
        assert "20: 19 succeeded, 1 failed, 0 pending" in rerun.stdout
        assert len(emulator.batches()) == 1


class _ManualClock:
    """The emulator's clock, moved only by the test: batches stay where they are until it says."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0

    def __call__(self) -> float:
        return self.now


def test_job_cancel_works_while_another_process_runs_the_job(tmp_path: Path) -> None:
    clock = _ManualClock()
    emulator = Emulator(stage_seconds=60, clock=clock, line_failures={"rate_limit": 0.5})
    with emulator.serve() as server:
        source = write_requests(tmp_path / "in.jsonl", 20, fail=frozenset())
        job_dir = tmp_path / "job"
        runner = subprocess.Popen(
            _command(server.url, "run", str(source), "--job-dir", str(job_dir), "--shard-lines", "10",
                     "--poll-interval", "0.05", "--max-poll-interval", "0.05"),
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        )  # fmt: skip
        deadline = time.monotonic() + 60
        while len(emulator.batches()) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)  # until the runner has created both batches (the clock stands still meanwhile)
        assert len(emulator.batches()) == 2
        status = subprocess.run(_command(server.url, "job", "status", str(job_dir)), capture_output=True, text=True)
        assert status.returncode == 0, status.stderr  # reading the status does not wait for the runner's lock
        assert "2 in_queue" in status.stdout
        cancel = subprocess.run(
            _command(server.url, "job", "cancel", str(job_dir)), capture_output=True, text=True, timeout=60
        )
        assert cancel.returncode == 0, cancel.stderr  # not refused by the lock
        assert {b["status"] for b in emulator.batches()} == {"cancelling"}
        clock.now += 120  # the cancelled batches end
        out, err = runner.communicate(timeout=60)
        assert runner.returncode == 1, err  # the run ends as a cancelled job
        assert "cancelled    yes" in out
        assert len(emulator.batches()) == 2  # nothing was created after the cancel, the 429 lines included
