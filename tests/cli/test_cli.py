"""The siliconflow-batch command: each subcommand's exit code, --json output and progress, against the emulator."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import siliconflow_batch as sf
from siliconflow_batch import cli
from siliconflow_batch.resources import Batches
from siliconflow_batch.testing import Emulator, VirtualClock

from cli_support import MODEL, Run, write_requests
from regenerate import pinned_version


def sfb(url: str, *args: str) -> Run:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.main([*args, "--base-url", url, "--api-key", "sk-emulator"], stdout=stdout, stderr=stderr)
    return Run(code, stdout.getvalue(), stderr.getvalue())


def test_validate_ok_and_bad(tmp_path: Path, url: str) -> None:
    good = sfb(url, "validate", str(write_requests(tmp_path / "good.jsonl")))
    assert good.code == 0
    assert f"OK, 6 requests, model {MODEL}" in good.out
    bad = sfb(url, "validate", str(write_requests(tmp_path / "bad.jsonl", bad=True)), "--json")
    assert bad.code == 2
    report = bad.json()
    assert report["ok"] is False
    assert report["problems"][0] == {"line": 2, "field": "custom_id", "message": "'dup' is already used on line 1"}


def test_submit_of_an_invalid_file_exits_2_and_uploads_nothing(tmp_path: Path, url: str, emulator: Emulator) -> None:
    result = sfb(url, "submit", str(write_requests(tmp_path / "bad.jsonl", bad=True)), "--wait")
    assert result.code == 2
    assert "line 2: custom_id: 'dup' is already used on line 1" in result.out
    assert emulator.requests["POST /files"] == 0
    assert emulator.files() == []


def test_submit_wait_saves_everything(tmp_path: Path, url: str) -> None:
    out_dir = tmp_path / "out"
    result = sfb(
        url,
        "submit",
        str(write_requests(tmp_path / "in.jsonl")),
        "--wait",
        "--poll-interval",
        "5",
        "--output",
        str(out_dir),
        "--metadata",
        "job=cli",
        "--metadata",
        "team=evals",
        "--json",
    )
    assert result.code == 0, result.err
    summary = result.json()
    assert summary["batch"]["status"] == "completed"
    metadata = summary["batch"]["metadata"]
    assert metadata.pop("idempotency_key").startswith("sfb-")  # made for the call: none was given
    assert metadata == {"job": "cli", "team": "evals"}
    assert sorted(p.name for p in out_dir.iterdir()) == ["errors.jsonl", "output.jsonl", "results.jsonl"]
    results = [json.loads(line) for line in (out_dir / "results.jsonl").read_text().splitlines()]
    assert [r["custom_id"] for r in results if not r["ok"]] == ["r2"]
    assert len(results) == 6
    # Not a terminal: one progress line per change, on stderr.
    progress = [line for line in result.err.splitlines() if line.startswith("[")]
    assert "in_queue" in progress[0]
    assert progress[-1].endswith("completed: 5/6 done, 1 failed")
    assert len(progress) == len(set(progress))


def test_get_list_cancel_files_and_results(tmp_path: Path, url: str, clock: VirtualClock) -> None:
    created = sfb(url, "submit", str(write_requests(tmp_path / "in.jsonl")), "--json")
    assert created.code == 0
    batch_id = created.json()["id"]
    got = sfb(url, "get", batch_id)
    assert (got.code, got.out.splitlines()[1].split()) == (0, ["status", "in_queue"])
    listed = sfb(url, "list", "--json")
    assert [b["id"] for b in listed.json()] == [batch_id]
    assert batch_id in sfb(url, "list", "--all").out
    files = sfb(url, "files", "--json")
    assert files.json()[0]["line_count"] == 6
    assert "in.jsonl" in sfb(url, "files").out
    clock.now += 100
    results = sfb(url, "results", batch_id, "--json")
    lines = [json.loads(line) for line in results.out.splitlines()]
    assert (results.code, len(lines)) == (0, 6)
    text = sfb(url, "results", batch_id)
    assert f"r0\tok\t[emulated {MODEL}] q0" in text.out
    saved = sfb(url, "results", batch_id, "--output", str(tmp_path / "r.jsonl"))
    assert saved.code == 0
    assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 6
    cancelled = sfb(url, "cancel", batch_id)
    assert cancelled.code == 1  # a completed batch cannot be cancelled: an API error
    assert "cannot be cancelled" in cancelled.err


def test_wait_exits_1_when_the_batch_is_cancelled(tmp_path: Path, url: str, clock: VirtualClock) -> None:
    batch_id = sfb(url, "submit", str(write_requests(tmp_path / "in.jsonl")), "--json").json()["id"]
    assert sfb(url, "cancel", batch_id, "--json").json()["status"] == "cancelling"
    result = sfb(url, "wait", batch_id, "--poll-interval", "5")
    assert result.code == 1
    assert "cancelled" in result.out


def test_wait_timeout_is_an_error(tmp_path: Path, url: str) -> None:
    batch_id = sfb(url, "submit", str(write_requests(tmp_path / "in.jsonl")), "--json").json()["id"]
    result = sfb(url, "wait", batch_id, "--poll-interval", "5", "--timeout", "12")
    assert result.code == 1
    assert "not done after the wait timeout" in result.err


def test_api_errors_exit_1_with_the_message(url: str) -> None:
    missing = sfb(url, "get", "batch_missing")
    assert missing.code == 1
    assert "404 page not found" in missing.err
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.main(["get", "b", "--base-url", url, "--api-key", "sk-wrong"], stdout=stdout, stderr=stderr)
    assert code == 1
    assert "Invalid token" in stderr.getvalue()
    assert "sk-wrong" not in stderr.getvalue()


def test_bad_usage_exits_2(url: str) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["create"])
    assert caught.value.code == 2
    bad_metadata = sfb(url, "create", "--input-file-id", "f", "--metadata", "novalue")
    assert bad_metadata.code == 2
    assert "--metadata: expected KEY=VALUE, got 'novalue'" in bad_metadata.err
    window = sfb(url, "create", "--input-file-id", "f", "--window", "2h")
    assert window.code == 2
    assert "--window: must be between 24h and 336h" in window.err


def test_ctrl_c_exits_130_with_a_resume_hint(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> sf.Batch:
        raise KeyboardInterrupt

    monkeypatch.setattr(Batches, "wait", interrupted)
    result = sfb(url, "submit", str(write_requests(tmp_path / "in.jsonl")), "--wait")
    assert result.code == 130
    assert "the batch keeps running on the server; resume with: siliconflow-batch wait batch_" in result.err


def test_progress_bar_on_a_terminal(tmp_path: Path, url: str) -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    stdout, stderr = io.StringIO(), Terminal()
    code = cli.main(
        [
            "submit",
            str(write_requests(tmp_path / "in.jsonl")),
            "--wait",
            "--poll-interval",
            "5",
            "--base-url",
            url,
            "--api-key",
            "sk-emulator",
        ],
        stdout=stdout,
        stderr=stderr,
    )
    assert code == 0
    shown = stderr.getvalue()
    assert "\r[" in shown
    assert "#" * 30 in shown  # the bar fills up
    assert shown.rstrip().endswith("5/6 done, 1 failed  0:00")


def test_environment_variables_are_used(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SILICONFLOW_BASE_URL", url)
    monkeypatch.setenv("SILICONFLOW_API_KEY", "sk-emulator")
    stdout = io.StringIO()
    assert cli.main(["files", "--json"], stdout=stdout, stderr=io.StringIO()) == 0
    assert json.loads(stdout.getvalue()) == []


def test_module_entry_point_and_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "siliconflow_batch", "--version"],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0
    expected = f"siliconflow-batch {sf.__version__} (spec sha256 {sf.SPEC_SHA256}, {sf.GENERATOR_VERSION})"
    assert result.stdout.strip() == expected
    assert f"openapi-python-client {pinned_version('openapi-python-client')}" == sf.GENERATOR_VERSION


def test_a_command_that_is_not_a_jobs_loads_none_of_the_job_machinery(tmp_path: Path) -> None:
    """The CLI starts fast: the ledger (sqlite3), the engine, money and structured outputs load with a job command."""
    source = tmp_path / "in.jsonl"
    source.write_text(
        '{"custom_id":"a","method":"POST","url":"/v1/chat/completions",'
        '"body":{"model":"m","messages":[{"role":"user","content":"x"}]}}\n'
    )
    code = f"""
import sys
from siliconflow_batch import cli
assert cli.main(["validate", {str(source)!r}]) == 0
heavy = ["sqlite3", "siliconflow_batch._jobs._sync.engine", "siliconflow_batch._jobs.settings",
         "siliconflow_batch.estimate", "siliconflow_batch.structured"]
print(sorted(name for name in heavy if name in sys.modules))
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.splitlines()[-1] == "[]", result.stdout + result.stderr
