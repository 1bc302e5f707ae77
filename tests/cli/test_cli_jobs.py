"""``run`` and ``job status|wait|results|cancel``: exit codes, --json, the live line, and resuming."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import pytest

from siliconflow_batch import AsyncJob, cli
from siliconflow_batch._async.jobs import AsyncJobs
from siliconflow_batch.testing import Emulator, VirtualClock

from cli_support import Run, write_requests


def sfb(url: str, *args: str, stderr: io.StringIO | None = None) -> Run:
    stdout, err = io.StringIO(), stderr or io.StringIO()
    code = cli.main([*args, "--base-url", url, "--api-key", "sk-emulator"], stdout=stdout, stderr=err)
    return Run(code, stdout.getvalue(), err.getvalue())


def _run(url: str, source: Path, job_dir: Path, *extra: str) -> Run:
    return sfb(url, "run", str(source), "--job-dir", str(job_dir), "--poll-interval", "5", *extra)


def test_run_writes_one_result_per_request_and_a_summary(tmp_path: Path, url: str, emulator: Emulator) -> None:
    source = write_requests(tmp_path / "in.jsonl", 12, fail=frozenset({3}))
    output = tmp_path / "results.jsonl"
    result = _run(url, source, tmp_path / "job", "--output", str(output), "--shard-lines", "5")
    assert result.code == 0, result.err
    assert "requests     12: 11 succeeded, 1 failed, 0 pending" in result.out
    assert "batches      3 completed" in result.out
    assert "cost         0.0" in result.out
    lines = [json.loads(line) for line in output.read_text().splitlines()]
    assert [line["custom_id"] for line in lines] == [f"r{i}" for i in range(12)]
    assert [line["ok"] for line in lines].count(False) == 1
    assert "wrote 12 results" in result.err
    # The same command again: the job is done, nothing is created, the results are written again.
    output.unlink()
    again = _run(url, source, tmp_path / "job", "--output", str(output), "--shard-lines", "5", "--json")
    assert again.code == 0
    assert again.json()["requests"] == {"total": 12, "succeeded": 11, "failed": 1, "pending": 0, "budget": 0}
    assert len(output.read_text().splitlines()) == 12
    assert len(emulator.batches()) == 3


def test_detach_then_status_wait_results_and_cancel(tmp_path: Path, url: str, emulator: Emulator) -> None:
    source = write_requests(tmp_path / "in.jsonl", 6)
    job_dir = str(tmp_path / "job")
    detached = _run(url, source, tmp_path / "job", "--detach", "--json")
    assert detached.code == 0
    assert detached.json()["requests"]["pending"] == 6
    assert f"follow it with: siliconflow-batch job wait {job_dir}" in detached.err
    status = sfb(url, "job", "status", job_dir)
    assert "6 pending" in status.out
    not_yet = sfb(url, "job", "results", job_dir)
    assert not_yet.code == 1
    assert "6 requests still pending" in not_yet.err
    waited = sfb(url, "job", "wait", job_dir, "--poll-interval", "5", "--json")
    assert waited.code == 0
    assert waited.json()["done"] is True
    printed = sfb(url, "job", "results", job_dir)
    assert [line.split("\t")[:2] for line in printed.out.splitlines()][:2] == [["r0", "ok"], ["r1", "ok"]]
    saved = sfb(url, "job", "results", job_dir, "--output", str(tmp_path / "r.jsonl"), "--json")
    assert saved.json() == {"results": 6, "path": str(tmp_path / "r.jsonl")}
    other = _run(url, write_requests(tmp_path / "in2.jsonl", 4), tmp_path / "job2", "--detach")
    assert other.code == 0
    cancelled = sfb(url, "job", "cancel", str(tmp_path / "job2"))
    assert cancelled.code == 0  # the cancel took effect (a `run` or `job wait` of the job then exits 1)
    assert "cancelled    yes" in cancelled.out


def test_mistakes_are_one_line_before_anything_is_sent(tmp_path: Path, url: str, emulator: Emulator) -> None:
    source = write_requests(tmp_path / "in.jsonl", 3)
    folder = _run(url, source, tmp_path / "job", "--output", str(tmp_path))
    assert folder.code == 2
    assert "--output: is a directory" in folder.err
    window = _run(url, source, tmp_path / "job", "--window", "12h")
    assert window.code == 2
    assert "--window: must be between 24h and 336h" in window.err
    bad = _run(url, write_requests(tmp_path / "bad.jsonl", 3, bad=True), tmp_path / "job")
    assert bad.code == 2
    assert "line 2: custom_id: 'dup' is already used on line 1" in bad.err
    assert emulator.files() == []
    missing = sfb(url, "job", "status", str(tmp_path / "nothing"))
    assert missing.code == 2  # a mistake in the command, as the README says
    assert "holds no job" in missing.err
    assert _run(url, source, tmp_path / "job", "--detach").code == 0
    changed = _run(url, write_requests(tmp_path / "in.jsonl", 4), tmp_path / "job")
    assert changed.code == 2
    assert "was started with another input" in changed.err
    assert "Traceback" not in changed.err + bad.err + folder.err


def test_ctrl_c_leaves_the_job_resumable_and_prints_the_command(
    tmp_path: Path, url: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def interrupted(self: AsyncJob, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    source = write_requests(tmp_path / "in.jsonl", 6)
    with monkeypatch.context() as patched:
        patched.setattr(AsyncJob, "wait", interrupted)
        result = _run(url, source, tmp_path / "job")
    assert result.code == 130
    assert "interrupted: nothing is lost" in result.err
    assert f"siliconflow-batch run {source} --job-dir {tmp_path / 'job'} --base-url {url}" in result.err
    assert "sk-emulator" not in result.err
    resumed = _run(url, source, tmp_path / "job")
    assert resumed.code == 0
    assert "6: 5 succeeded, 1 failed, 0 pending" in resumed.out
    assert len(emulator.batches()) == 1


def test_the_live_line_on_a_terminal(
    tmp_path: Path, url: str, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("COLUMNS", "200")  # wide enough for every part of the line

    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    terminal = Terminal()
    result = sfb(url, "run", str(write_requests(tmp_path / "in.jsonl", 6)), "--job-dir", str(tmp_path / "job"),
                 "--poll-interval", "5", stderr=terminal)  # fmt: skip
    assert result.code == 0
    shown = terminal.getvalue()
    assert "\r[" in shown
    assert "6/6 requests (1 failed)  batches: 1 completed  resubmitted 0" in shown
    assert "#" * 20 in shown


def test_the_live_line_counts_what_running_batches_have_done_and_its_eta_follows(
    tmp_path: Path, url: str, clock: VirtualClock
) -> None:
    from siliconflow_batch._jobs.status import JobStatus
    from siliconflow_batch.cli._output import Output
    from siliconflow_batch.cli.jobs import _Progress

    progress = _Progress(Output(False, io.StringIO(), io.StringIO()))
    start = JobStatus("j", total=100, succeeded=0, failed=0, pending=100, batches={"in_progress": 1})
    assert "0/100 requests" in progress.line(start)
    clock.advance(60)
    running = JobStatus("j", total=100, succeeded=0, failed=0, pending=100, batches={"in_progress": 1}, running_done=50)
    line = progress.line(running)
    assert "50/100 requests" in line  # nothing downloaded yet, half done on the server
    assert "ETA 1:00" in line  # 50 in 60 s: the other 50 in about as long


def test_the_live_lines_clock_counts_earlier_runs_and_its_eta_this_ones_pace(clock: VirtualClock) -> None:
    from siliconflow_batch._jobs.status import JobStatus
    from siliconflow_batch.cli._output import Output
    from siliconflow_batch.cli.jobs import _Progress

    progress = _Progress(Output(False, io.StringIO(), io.StringIO()), ran_before=75)
    start = JobStatus("j", total=100, succeeded=0, failed=0, pending=100, batches={"in_progress": 1})
    assert progress.line(start).endswith("1:15")
    clock.advance(60)
    running = JobStatus("j", total=100, succeeded=0, failed=0, pending=100, batches={"in_progress": 1}, running_done=50)
    line = progress.line(running)
    assert "2:15" in line  # 75 s before this process, 60 s in it
    assert "ETA 1:00" in line  # 50 in this process's 60 s: the other 50 in about as long


def test_a_resumed_runs_clock_goes_on_from_the_jobs_start(tmp_path: Path, url: str, clock: VirtualClock) -> None:
    source = write_requests(tmp_path / "in.jsonl", 4)
    assert _run(url, source, tmp_path / "job", "--detach").code == 0
    clock.advance(300)  # five minutes with no process following the job
    resumed = _run(url, source, tmp_path / "job")
    assert resumed.code == 0, resumed.err
    lines = [line for line in resumed.err.splitlines() if "requests (" in line]
    assert lines, resumed.err
    assert lines[0].endswith("  5:00"), lines[0]  # not 0:00: the job began five minutes ago


def test_a_402_pauses_run_with_one_line_and_the_same_command_resumes(
    tmp_path: Path, url: str, emulator: Emulator
) -> None:
    source = write_requests(tmp_path / "in.jsonl", 6)
    emulator.faults.inject("insufficient_balance", route="POST /batches")
    paused = _run(url, source, tmp_path / "job")
    assert paused.code == 1
    errors = [line for line in paused.err.splitlines() if line.startswith("error:")]
    assert len(errors) == 1, paused.err
    assert "is paused" in errors[0]
    assert "paid only from recharged balance" in errors[0]
    assert f"resume with: siliconflow-batch run {source} --job-dir {tmp_path / 'job'}" in errors[0]
    assert emulator.batches() == []
    resumed = _run(url, source, tmp_path / "job")  # topped up (the fault was once)
    assert resumed.code == 0, resumed.err
    assert len(emulator.batches()) == 1


def test_max_concurrency_reaches_the_jobs_sending_and_following(
    tmp_path: Path, url: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[tuple[str, object]] = []
    submit, wait = AsyncJobs.submit, AsyncJob.wait

    async def submitting(self: AsyncJobs, *args: Any, **kwargs: Any) -> Any:
        seen.append(("submit", kwargs.get("max_concurrency")))
        return await submit(self, *args, **kwargs)

    async def waiting(self: AsyncJob, **kwargs: Any) -> Any:
        seen.append(("wait", kwargs.get("max_concurrency")))
        return await wait(self, **kwargs)

    monkeypatch.setattr(AsyncJobs, "submit", submitting)
    monkeypatch.setattr(AsyncJob, "wait", waiting)
    source = write_requests(tmp_path / "in.jsonl", 6)
    result = _run(url, source, tmp_path / "job", "--shard-lines", "2", "--max-concurrency", "3")
    assert result.code == 0, result.err
    assert len(emulator.batches()) == 3
    again = sfb(url, "job", "wait", str(tmp_path / "job"))
    assert again.code == 0, again.err
    assert seen == [("submit", 3), ("wait", 3), ("wait", 4)]  # job wait: the default, DEFAULT_MAX_CONCURRENCY
    with pytest.raises(SystemExit) as refused:  # argparse's own usage error: before anything is read
        _run(url, source, tmp_path / "job", "--max-concurrency", "0")
    assert refused.value.code == 2
