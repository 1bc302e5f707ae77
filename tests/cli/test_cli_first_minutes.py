"""The command line as a new user meets it (issue 23): its own flags in messages, exit codes, hints, help."""

from __future__ import annotations

import argparse
import io
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import NoReturn

import pytest

from siliconflow_batch import AsyncJob, cli
from siliconflow_batch._async.jobs import AsyncJobs  # the resource job commands run on
from siliconflow_batch.cli._main import build_parser  # the resource
from siliconflow_batch.resources import Batches
from siliconflow_batch.testing import Emulator
from siliconflow_batch.validation import MAX_LINE_BYTES

from cli_support import Run, write_requests


def sfb(url: str, *args: str, key: str | None = "sk-emulator") -> Run:
    stdout, stderr = io.StringIO(), io.StringIO()
    keyed = ["--api-key", key] if key is not None else []
    code = cli.main([*args, "--base-url", url, *keyed], stdout=stdout, stderr=stderr)
    return Run(code, stdout.getvalue(), stderr.getvalue())


PYTHON_WORDS = ("partial=True", "api_key=", "validate=False", "pass ")


def _speaks_cli(text: str) -> None:
    for words in PYTHON_WORDS:
        assert words not in text, text


def test_messages_name_the_commands_flags_not_pythons_arguments(
    tmp_path: Path, url: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_requests(tmp_path / "in.jsonl", 3)
    batch_id = sfb(url, "submit", str(source), "--json").json()["id"]
    running = sfb(url, "results", batch_id)
    assert running.code == 1
    assert "give --partial" in running.err
    _speaks_cli(running.err)

    sfb(url, "run", str(source), "--job-dir", str(tmp_path / "job"), "--detach")
    pending = sfb(url, "job", "results", str(tmp_path / "job"))
    assert pending.code == 1
    assert "give --partial" in pending.err
    _speaks_cli(pending.err)

    monkeypatch.delenv("SILICONFLOW_API_KEY", raising=False)
    no_key = sfb(url, "list", key=None)
    assert no_key.code == 2  # a mistake of the command, as the README says
    assert "--api-key: none given: give --api-key or set SILICONFLOW_API_KEY" in no_key.err
    _speaks_cli(no_key.err)


def test_a_line_longer_than_is_read_whole_is_validated_and_run_in_pieces(
    tmp_path: Path, url: str, emulator: Emulator
) -> None:
    # The vendor limits the file (1 GB), not its lines: validate, submit and run take a line of any length.
    content = b"x" * (MAX_LINE_BYTES + 10)
    good, bad = tmp_path / "good.jsonl", tmp_path / "bad.jsonl"
    good.write_bytes(b'{"custom_id": "a", "body": {"messages": [{"role": "user", "content": "' + content + b'"}]}}\n')
    bad.write_bytes(b'{"custom_id": "a", "body": {"messages": [{"role": "robot", "content": "' + content + b'"}]}}\n')
    checked = sfb(url, "validate", str(good))
    assert checked.code == 0, checked.out + checked.err
    refused = sfb(url, "validate", str(bad))
    assert refused.code == 2
    assert "body.messages[0].role" in refused.out
    assert "must be system, user or assistant, got 'robot'" in refused.out
    submitted = sfb(url, "submit", str(bad), "--json")
    assert submitted.code == 2
    assert submitted.json()["problems"][0]["field"] == "body.messages[0].role"
    # A job takes it too (its spool, shard and estimate read it in pieces), and the emulator runs it.
    big = b"x" * (40 * 1024**2)
    source = tmp_path / "big.jsonl"
    source.write_bytes(
        b'{"custom_id": "big", "body": {"model": "deepseek-ai/DeepSeek-V3", "messages": [{"role": "user", '
        b'"content": "' + big + b'"}]}}\n' + write_requests(tmp_path / "small.jsonl", 1, fail=frozenset()).read_bytes()
    )
    job = str(tmp_path / "job")
    dry = sfb(url, "run", str(source), "--job-dir", job, "--dry-run", "--json")
    assert dry.code == 0, dry.err
    assert dry.json()["estimate"]["requests"] == 2
    assert dry.json()["estimate"]["input_tokens"] >= 0.3 * len(big)  # an upper bound from the line's size
    ran = sfb(url, "run", str(source), "--job-dir", job, "--poll-interval", "5", "--json")
    assert ran.code == 0, ran.err
    assert ran.json()["requests"]["total"] == 2
    assert ran.json()["requests"]["succeeded"] == 2
    results = sfb(url, "job", "results", job, "--output", str(tmp_path / "results.jsonl"))
    assert results.code == 0, results.err
    with (tmp_path / "results.jsonl").open("rb") as saved:
        assert {json.loads(line)["custom_id"] for line in saved} == {"big", "r0"}


def test_submit_no_validate_sends_the_file_unchecked(tmp_path: Path, url: str, emulator: Emulator) -> None:
    bad = write_requests(tmp_path / "bad.jsonl", 3, bad=True)
    sent = sfb(url, "submit", str(bad), "--no-validate", "--json")
    assert sent.code == 0, sent.err
    assert "(unchecked)" in sent.err
    assert json.loads(sent.out)["id"].startswith("batch")


def test_fail_on_errors_exits_1_when_any_request_ended_failed(tmp_path: Path, url: str, emulator: Emulator) -> None:
    source = write_requests(tmp_path / "in.jsonl", 4)  # one request asks too many tokens and fails
    wait = ("--poll-interval", "5")
    plain = sfb(url, "submit", str(source), "--wait", *wait, "--json")
    assert plain.code == 0, plain.err
    batch_id = plain.json()["batch"]["id"]
    flagged = sfb(url, "submit", str(source), "--wait", *wait, "--fail-on-errors")
    assert flagged.code == 1
    assert "1 request ended failed (--fail-on-errors)" in flagged.err
    assert sfb(url, "wait", batch_id, *wait).code == 0
    assert sfb(url, "wait", batch_id, *wait, "--fail-on-errors").code == 1
    printed = sfb(url, "results", batch_id, "--fail-on-errors")
    assert printed.code == 1
    assert len(printed.out.splitlines()) == 4  # every result is still printed
    assert sfb(url, "results", batch_id, "--output", str(tmp_path / "r.jsonl"), "--fail-on-errors").code == 1
    assert sfb(url, "results", batch_id).code == 0
    unwaited = sfb(url, "submit", str(source), "--fail-on-errors")
    assert unwaited.code == 2
    assert "--fail-on-errors: needs --wait" in unwaited.err

    job = str(tmp_path / "job")
    ran = sfb(url, "run", str(source), "--job-dir", job, *wait, "--fail-on-errors", "--max-attempts", "1")
    assert ran.code == 1, ran.err
    assert "requests     4: 3 succeeded, 1 failed" in ran.out
    assert sfb(url, "job", "wait", job, *wait).code == 0
    assert sfb(url, "job", "wait", job, *wait, "--fail-on-errors").code == 1
    assert sfb(url, "job", "results", job, "--fail-on-errors").code == 1

    clean = write_requests(tmp_path / "clean.jsonl", 3, fail=frozenset())
    assert sfb(url, "submit", str(clean), "--wait", *wait, "--fail-on-errors").code == 0
    assert sfb(url, "run", str(clean), "--job-dir", str(tmp_path / "job2"), *wait, "--fail-on-errors").code == 0


def test_a_closed_pipe_ends_the_command_quietly(tmp_path: Path, url: str, emulator: Emulator) -> None:
    source = write_requests(tmp_path / "in.jsonl", 500, fail=frozenset())
    batch_id = sfb(url, "submit", str(source), "--wait", "--poll-interval", "5", "--json").json()["batch"]["id"]
    env = {**os.environ, "SILICONFLOW_API_KEY": "sk-emulator"}
    command = [sys.executable, "-m", "siliconflow_batch", "results", batch_id, "--base-url", url]
    reader = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    assert reader.stdout is not None
    assert reader.stderr is not None
    reader.stdout.read(10)
    reader.stdout.close()  # as `| head` does once it has its lines
    err = reader.stderr.read().decode()
    assert reader.wait(timeout=60) == cli.CLOSED_PIPE
    assert err == ""


def test_job_status_of_a_directory_with_no_job_is_a_mistake(tmp_path: Path, url: str) -> None:
    result = sfb(url, "job", "status", str(tmp_path / "nothing"))
    assert result.code == 2
    assert "DIR: " in result.err
    assert "holds no job" in result.err


def test_with_json_stdout_is_json_and_an_error_is_one_json_object_on_stderr(
    tmp_path: Path, url: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    source = write_requests(tmp_path / "in.jsonl", 3)
    ran = sfb(url, "run", str(source), "--job-dir", str(tmp_path / "job"), "--poll-interval", "5", "--json")
    assert ran.json()["requests"]["total"] == 3
    missing = sfb(url, "get", "batch_nope", "--json")
    assert missing.code == 1
    (line,) = missing.err.splitlines()
    assert json.loads(line)["exit_code"] == 1
    bad = sfb(url, "run", str(source), "--job-dir", str(tmp_path / "job2"), "--window", "12h", "--json")
    assert bad.code == 2
    (line,) = bad.err.splitlines()
    assert json.loads(line)["problems"][0]["field"] == "--window"
    with pytest.raises(SystemExit) as caught:
        cli.main(["list", "--limit", "0", "--json"], stdout=io.StringIO(), stderr=io.StringIO())
    assert caught.value.code == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert "--limit" in json.loads(line)["error"]

    def interrupt(seconds: float) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("siliconflow_batch.cli.emulator.time.sleep", interrupt)
    stdout = io.StringIO()
    assert cli.main(["emulator", "--port", "0", "--json"], stdout=stdout, stderr=io.StringIO()) == 0
    assert json.loads(stdout.getvalue())["url"].startswith("http://127.0.0.1:")


def test_a_404_says_what_was_not_found(tmp_path: Path, url: str, emulator: Emulator) -> None:
    root = url.removesuffix("/v1")
    lacking = sfb(root, "list")
    assert lacking.code == 1
    assert f"try --base-url {root}/v1" in lacking.err
    missing = sfb(url, "get", "batch_nope")
    assert missing.code == 1
    assert "there is no batch batch_nope" in missing.err
    assert "there is no batch batch_nope" in sfb(url, "cancel", "batch_nope").err
    assert "there is no batch" not in lacking.err


def test_lists_say_when_there_is_more_and_take_all(tmp_path: Path, url: str, emulator: Emulator) -> None:
    emulator.seed_batches(25)
    first = sfb(url, "list", "--json")
    assert len(first.json()) == 20
    assert "showing the newest 20 batches; there are more: --all lists every one" in first.err
    assert len(sfb(url, "list", "--all", "--json").json()) == 25
    assert sfb(url, "list", "--limit", "30").err == ""

    source = write_requests(tmp_path / "in.jsonl", 1)
    for _ in range(12):
        assert sfb(url, "upload", str(source)).code == 0
    page = sfb(url, "files", "--json")
    assert len(page.json()) == 10
    assert "showing 10 files; there may be more: --all lists every one" in page.err
    every = sfb(url, "files", "--all", "--json")
    assert len(every.json()) == len(emulator.files()) == 13  # and the seeded batches' input
    assert every.err == ""
    assert sfb(url, "files", "--limit", "20").err == ""


def _commands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (subparsers,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return {"": parser, **subparsers.choices}


def test_help_gives_every_argument_and_option_a_text_and_the_real_limits() -> None:
    commands = _commands()
    for name, parser in commands.items():
        for action in parser._actions:
            if not isinstance(action, argparse._SubParsersAction | argparse._HelpAction):
                assert action.help, f"{name or 'siliconflow-batch'} {action.dest} has no help"
    assert "`" not in commands[""].format_help()
    run_help = " ".join(commands["run"].format_help().split())
    assert "(at most 10: the job's batches carry 6 of their own)" in run_help
    for name, parser in commands.items():
        assert "replace_model" not in parser.format_help(), name  # the flag's name, not Python's
    validate_help = commands["validate"].format_help()
    for unused in ("--api-key", "--base-url", "--max-retries"):
        assert unused not in validate_help


def test_counts_are_singular_or_plural_and_each_message_names_its_argument(
    tmp_path: Path, url: str, emulator: Emulator
) -> None:
    one = write_requests(tmp_path / "one.jsonl", 1, fail=frozenset())
    assert ": OK, 1 request, model" in sfb(url, "validate", str(one)).out
    broken = tmp_path / "broken.jsonl"
    broken.write_text("{nope\n")
    report = sfb(url, "validate", str(broken)).out
    assert ": 1 problem\n" in report
    assert "  line 1: is not valid JSON" in report

    afile = tmp_path / "afile"
    afile.write_text("")
    on_a_file = sfb(url, "run", str(one), "--job-dir", str(afile))
    assert on_a_file.code == 2
    assert "--job-dir: " in on_a_file.err
    state = sfb(url, "emulator", "--port", "0", "--state-dir", str(afile / "state"))
    assert state.code == 2
    assert "--state-dir: " in state.err


def test_submit_output_labels_each_row_once_and_results_show_a_failure_whole(tmp_path: Path, url: str) -> None:
    source = write_requests(tmp_path / "in.jsonl", 3)
    out_dir = tmp_path / "out"
    done = sfb(url, "submit", str(source), "--wait", "--poll-interval", "5", "--output", str(out_dir))
    assert done.code == 0, done.err
    labels = [line[:12].strip() for line in done.out.splitlines()]
    assert len(labels) == len(set(labels)), done.out
    assert "saved output" in labels
    batch_id = done.out.split()[1]
    (failed,) = [line for line in sfb(url, "results", batch_id).out.splitlines() if "\tFAILED\t" in line]
    why = failed.split("\t")[2]
    assert "..." not in why
    assert not why.startswith("{")


def test_the_emulator_without_its_extra_is_one_line_naming_it(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [m for m in sys.modules if m.startswith("siliconflow_batch.testing")]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "h11", None)  # as if not installed: importing it fails
    stdout, stderr = io.StringIO(), io.StringIO()
    assert cli.main(["emulator", "--port", "0"], stdout=stdout, stderr=stderr) == 2
    (line,) = stderr.getvalue().splitlines()
    assert "pip install 'siliconflow-batch[emulator]'" in line
    assert "Traceback" not in line
    assert stdout.getvalue() == ""


def test_the_readme_says_which_key_the_emulator_accepts() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    section = readme.split("## The command line", 1)[1].split("\n## ", 1)[0]
    assert "--emulator-key" in section
    assert "sk-emulator" in section


def _interrupt(*args: object, **kwargs: object) -> NoReturn:
    raise KeyboardInterrupt


def test_the_resume_hint_keeps_the_options_that_were_given(
    tmp_path: Path, url: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = write_requests(tmp_path / "in.jsonl", 3)
    job = str(tmp_path / "job")
    given = ("--poll-interval", "7", "--metadata", "team=search", "--max-attempts", "2")
    with monkeypatch.context() as patched:
        patched.setattr(AsyncJobs, "submit", _interrupt)
        early = sfb(url, "run", str(source), "--job-dir", job, *given)
    assert early.code == 130
    assert "keep running" not in early.err  # no batch existed yet
    assert f"run {source} --job-dir {job} --base-url {url} " in early.err
    assert "the job was still being submitted" in early.err
    for option in ("--poll-interval 7", "--metadata team=search", "--max-attempts 2"):
        assert option in early.err
    assert "sk-emulator" not in early.err
    with monkeypatch.context() as patched:
        patched.setattr(AsyncJob, "wait", _interrupt)
        later = sfb(url, "run", str(source), "--job-dir", job, *given)
        waited = sfb(url, "job", "wait", job, "--poll-interval", "9")
    assert "the job's batches keep running" in later.err
    assert early.err.splitlines()[-1] == later.err.splitlines()[-1]  # the same command (run prints its estimate first)
    assert f"Resume with:\n  siliconflow-batch job wait {job} --base-url {url} --poll-interval 9" in waited.err

    out_dir = tmp_path / "out"
    with monkeypatch.context() as patched:
        patched.setattr(Batches, "wait", _interrupt)
        submitted = sfb(url, "submit", str(source), "--wait", "--output", str(out_dir), "--poll-interval", "7")
    assert submitted.code == 130
    with monkeypatch.context() as patched:
        patched.setattr(Batches, "wait", _interrupt)
        as_json = sfb(url, "submit", str(source), "--wait", "--json")
    (line,) = as_json.err.splitlines()[-1:]
    assert json.loads(line)["exit_code"] == 130
    assert "resume with: siliconflow-batch wait batch_" in json.loads(line)["error"]
    batch_id = submitted.err.split("created batch ", 1)[1].split()[0]
    assert f"resume with: siliconflow-batch wait {batch_id} --base-url {url} --poll-interval 7" in submitted.err
    assert f"siliconflow-batch results {batch_id} --output {out_dir / 'results.jsonl'}" in submitted.err


def test_sigterm_ends_a_run_as_ctrl_c_does_with_the_resume_hint(tmp_path: Path, url: str, emulator: Emulator) -> None:
    source = write_requests(tmp_path / "in.jsonl", 3)
    command = [sys.executable, "-m", "siliconflow_batch", "run", str(source), "--job-dir", str(tmp_path / "job")]
    env = {**os.environ, "SILICONFLOW_API_KEY": "sk-emulator"}
    process = subprocess.Popen(
        [*command, "--base-url", url, "--poll-interval", "0.1"], stderr=subprocess.PIPE, text=True, env=env
    )
    assert process.stderr is not None
    process.stderr.readline()  # the first progress line: the job exists and is being followed
    process.send_signal(signal.SIGTERM)
    err = process.stderr.read()
    assert process.wait(timeout=60) == cli.TERMINATED
    assert "terminated: nothing is lost; the job's batches keep running" in err
    assert f"--job-dir {tmp_path / 'job'}" in err


def test_a_resumed_run_refuses_settings_that_differ_from_the_jobs(tmp_path: Path, url: str, emulator: Emulator) -> None:
    source = write_requests(tmp_path / "in.jsonl", 3)
    job = str(tmp_path / "job")
    began = ("--window", "48h", "--metadata", "team=search", "--detach")
    assert sfb(url, "run", str(source), "--job-dir", job, *began).code == 0
    changed = sfb(url, "run", str(source), "--job-dir", job, "--window", "72h", "--max-attempts", "2", "--detach")
    assert changed.code == 2
    assert "--window: is '72h' but the job in" in changed.err
    assert "began with '48h'" in changed.err
    assert "--max-attempts: is 2" in changed.err
    assert len(emulator.batches()) == 1
    same = sfb(url, "run", str(source), "--job-dir", job, *began, "--poll-interval", "9")
    assert same.code == 0, same.err  # the same settings, and this process's own poll interval
    assert sfb(url, "run", str(source), "--job-dir", job, "--detach").code == 0  # nothing given: the job's own


class _Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def _drawn(shown: str) -> list[str]:
    """Each drawing of the live line: what follows a carriage return, up to the end of the line."""
    return [part.split("\n")[0] for part in shown.split("\r")[1:]]


@pytest.mark.parametrize("columns", [80, 50])
def test_the_live_line_fits_the_terminal_and_keeps_done_batches_and_eta(
    tmp_path: Path, url: str, emulator: Emulator, monkeypatch: pytest.MonkeyPatch, columns: int
) -> None:
    monkeypatch.setenv("COLUMNS", str(columns))
    terminal = _Terminal()
    source = write_requests(tmp_path / "in.jsonl", 12)
    stdout = io.StringIO()
    args = ["run", str(source), "--job-dir", str(tmp_path / "job"), "--shard-lines", "2", "--poll-interval", "5"]
    code = cli.main([*args, "--base-url", url, "--api-key", "sk-emulator"], stdout=stdout, stderr=terminal)
    assert code == 0
    lines = _drawn(terminal.getvalue())
    assert lines
    assert all(len(line) < columns for line in lines), [len(line) for line in lines]
    assert all("/12 requests" in line and "batches:" in line for line in lines)
    from siliconflow_batch._jobs.status import JobStatus
    from siliconflow_batch.cli._output import Output
    from siliconflow_batch.cli.jobs import _Progress

    progress = _Progress(Output(False, io.StringIO(), _Terminal()))
    many = {"in_queue": 3, "validating": 2, "in_progress": 4, "finalizing": 1, "completed": 9, "failed": 1}
    status = JobStatus("j", total=100, succeeded=0, failed=0, pending=100, batches=many)
    progress.line(status, columns - 1)
    later = JobStatus("j", total=100, succeeded=40, failed=0, pending=60, batches=many)
    line = progress.line(later, columns - 1)
    assert len(line) < columns
    assert "40/100 requests" in line


def test_a_single_batchs_live_line_fits_the_terminal(tmp_path: Path, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "40")
    terminal = _Terminal()
    source = write_requests(tmp_path / "in.jsonl", 3)
    args = ["submit", str(source), "--wait", "--poll-interval", "5", "--base-url", url, "--api-key", "sk-emulator"]
    assert cli.main(args, stdout=io.StringIO(), stderr=terminal) == 0
    lines = _drawn(terminal.getvalue())
    assert lines
    assert all(len(line) < 40 for line in lines)
    assert any("completed" in line for line in lines)


def test_the_live_line_fits_a_real_terminal_of_60_columns(tmp_path: Path) -> None:
    import fcntl
    import pty
    import struct
    import termios

    emulator = Emulator(stage_seconds=0.05)
    source = write_requests(tmp_path / "in.jsonl", 6)
    primary, secondary = pty.openpty()
    fcntl.ioctl(secondary, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 60, 0, 0))
    env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    with emulator.serve() as server:
        command = [sys.executable, "-m", "siliconflow_batch", "run", str(source), "--job-dir", str(tmp_path / "job")]
        command += ["--poll-interval", "0.05", "--base-url", server.url, "--api-key", emulator.api_key]
        process = subprocess.Popen(command, stderr=secondary, stdout=subprocess.DEVNULL, env=env)
        os.close(secondary)
        shown = b""
        while True:
            try:
                chunk = os.read(primary, 4096)
            except OSError:  # the terminal closed: the command has ended
                break
            if not chunk:
                break
            shown += chunk
        assert process.wait(timeout=60) == 0
    os.close(primary)
    lines = _drawn(shown.decode().replace("\r\n", "\n"))
    assert lines
    assert all(len(line) < 60 for line in lines), lines
    assert any("6/6 requests" in line for line in lines)


def test_a_settings_problem_names_the_flag_not_the_parameter(tmp_path: Path, url: str, emulator: Emulator) -> None:
    source = write_requests(tmp_path / "in.jsonl", 3)
    pairs = [word for i in range(11) for word in ("--metadata", f"k{i}=v")]
    many = sfb(url, "run", str(source), "--job-dir", str(tmp_path / "job"), *pairs)
    assert many.code == 2
    assert "  --metadata: has 11 pairs" in many.err
    reserved = sfb(url, "run", str(source), "--job-dir", str(tmp_path / "job"), "--metadata", "sf_job=x")
    assert (
        "  --metadata: sf_job is a key of the job's own (its batches carry idempotency_key, sf_attempt" in reserved.err
    )
    seventeen = [word for i in range(17) for word in ("--metadata", f"k{i}=v")]
    created = sfb(url, "create", "--input-file-id", "f", *seventeen, "--json")
    assert created.code == 2
    assert json.loads(created.err)["problems"][0]["field"] == "--metadata"
