"""The command line as a new user meets it (issue 23): its own flags in messages, exit codes, hints, help."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from siliconflow_batch import cli
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
    assert "give --api-key or set SILICONFLOW_API_KEY" in no_key.err
    _speaks_cli(no_key.err)


def test_a_line_over_the_clients_limit_says_how_each_command_gets_past_it(
    tmp_path: Path, url: str, emulator: Emulator
) -> None:
    long = tmp_path / "long.jsonl"
    with long.open("wb") as handle:
        handle.write(b'{"custom_id": "' + b"x" * (MAX_LINE_BYTES + 10) + b'"}\n')
    checked = sfb(url, "validate", str(long))
    assert checked.code == 2
    assert "upload it with --no-validate" in checked.out
    _speaks_cli(checked.out)
    submitted = sfb(url, "submit", str(long), "--json")
    assert submitted.code == 2
    message = submitted.json()["problems"][0]["message"]
    assert "give --no-validate" in message
    _speaks_cli(message)
    ran = sfb(url, "run", str(long), "--job-dir", str(tmp_path / "job"))
    assert ran.code == 2
    assert "upload --no-validate, then create" in ran.err
    _speaks_cli(ran.err)


def test_submit_no_validate_sends_the_file_unchecked(tmp_path: Path, url: str, emulator: Emulator) -> None:
    bad = write_requests(tmp_path / "bad.jsonl", 3, bad=True)
    sent = sfb(url, "submit", str(bad), "--no-validate", "--json")
    assert sent.code == 0, sent.err
    assert "(unchecked)" in sent.err
    assert json.loads(sent.out)["id"].startswith("batch")
