"""Ordinary mistakes at the command line get one line naming the thing, and nothing is sent before every
argument has been checked; options work on either side of the command; no output shows a key."""

from __future__ import annotations

import io
import json
import os
import socket
import stat
import subprocess
import sys
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread
from typing import Any

import pytest

import siliconflow_batch as sf
from siliconflow_batch import cli
from siliconflow_batch.cli._output import Output
from siliconflow_batch.testing import Emulator, VirtualClock

from cli_support import MODEL, Run, write_requests
from fakes import batch


def call(*args: str) -> Run:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.main(list(args), stdout=stdout, stderr=stderr)
    return Run(code, stdout.getvalue(), stderr.getvalue())


def one_line_error(result: Run, code: int = 2) -> str:
    assert result.code == code, (result.out, result.err)
    assert "Traceback" not in result.err
    assert result.err.startswith("error: ")
    return result.err


def test_options_before_the_command_are_used(url: str, emulator: Emulator, tmp_path: Path) -> None:
    call("--base-url", url, "--api-key", "sk-emulator", "upload", str(write_requests(tmp_path / "in.jsonl")))
    before = call("--base-url", url, "--api-key", "sk-emulator", "--json", "files")
    assert before.code == 0, before.err
    assert json.loads(before.out)[0]["line_count"] == 6
    after = call("files", "--base-url", url, "--api-key", "sk-emulator", "--json")
    assert json.loads(after.out) == json.loads(before.out)
    wrong_key = call("--api-key", "sk-wrong", "files", "--base-url", url)
    assert "Invalid token" in one_line_error(wrong_key, 1)


def test_help_names_both_places_for_options(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["--help"], stdout=io.StringIO())
    assert "may come before or after the command" in capsys.readouterr().out


@pytest.mark.parametrize("command", ["validate", "upload", "submit"])
def test_a_directory_as_the_input_file_is_one_line(url: str, emulator: Emulator, tmp_path: Path, command: str) -> None:
    result = call(command, str(tmp_path), "--base-url", url, "--api-key", "sk-emulator")
    assert result.code == 2
    assert "Traceback" not in result.out + result.err
    assert "is a directory" in result.out + result.err
    assert emulator.requests["POST /files"] == 0


def test_upload_without_validation_of_a_missing_file_is_one_line(url: str, tmp_path: Path) -> None:
    missing = str(tmp_path / "nope.jsonl")
    err = one_line_error(call("upload", missing, "--no-validate", "--base-url", url, "--api-key", "sk-emulator"))
    assert "does not exist" in err


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--window", "2h"], "--window: must be between 24h and 336h"),
        (["--window", "\u0662\u0664h"], "--window: must be between 24h and 336h"),
        (["--metadata", "novalue"], "--metadata: expected KEY=VALUE"),
        ([f"--metadata=k{i}=v" for i in range(16)], "has 16 pairs besides the idempotency key; the limit is 15"),
    ],
)
def test_submit_checks_every_argument_before_uploading(
    url: str, emulator: Emulator, tmp_path: Path, flags: list[str], message: str
) -> None:
    result = call(
        "submit", str(write_requests(tmp_path / "in.jsonl")), *flags, "--base-url", url, "--api-key", "sk-emulator"
    )
    assert message in one_line_error(result)
    assert emulator.requests["POST /files"] == 0


def test_submit_wait_with_a_file_as_the_output_folder_is_refused_before_uploading(
    url: str, emulator: Emulator, tmp_path: Path
) -> None:
    taken = tmp_path / "taken"
    taken.write_text("mine")
    result = call(
        "submit", str(write_requests(tmp_path / "in.jsonl")), "--wait", "--output", str(taken), "--base-url", url,
        "--api-key", "sk-emulator",
    )  # fmt: skip
    assert "--output: is a file" in one_line_error(result)
    assert emulator.requests["POST /files"] == 0
    assert taken.read_text() == "mine"


def test_metadata_before_the_file_does_not_swallow_it(url: str, tmp_path: Path, clock: VirtualClock) -> None:
    path = write_requests(tmp_path / "in.jsonl")
    result = call("submit", "--metadata", "k=v", str(path), "--json", "--base-url", url, "--api-key", "sk-emulator")
    assert result.code == 0, result.err
    metadata = json.loads(result.out)["metadata"]
    assert metadata.pop("idempotency_key").startswith("sfb-")
    assert metadata == {"k": "v"}


@pytest.mark.parametrize("kind", ["directory", "existing file", "missing folder"])
def test_results_output_problems_are_found_before_fetching(
    url: str, emulator: Emulator, tmp_path: Path, clock: VirtualClock, kind: str
) -> None:
    batch_id = json.loads(call("submit", str(write_requests(tmp_path / "in.jsonl")), "--json", "--base-url", url,
                               "--api-key", "sk-emulator").out)["id"]  # fmt: skip
    clock.now += 100
    target = {"directory": tmp_path, "existing file": tmp_path / "r.jsonl", "missing folder": tmp_path / "no" / "r"}
    (tmp_path / "r.jsonl").write_text("old\n")
    earlier = (tmp_path / "r.jsonl").stat().st_ino
    before = sorted(p.name for p in tmp_path.iterdir())
    result = call("results", batch_id, "--output", str(target[kind]), "--base-url", url, "--api-key", "sk-emulator")
    if kind == "existing file":  # replaced atomically, as asked: renamed over the old file (a new inode)
        assert result.code == 0, result.err
        assert len((tmp_path / "r.jsonl").read_text().splitlines()) == 6
        assert (tmp_path / "r.jsonl").stat().st_ino != earlier  # not rewritten in place
        assert sorted(p.name for p in tmp_path.iterdir()) == before  # no temporary file left behind
    else:
        assert "--output: " in one_line_error(result)
        assert emulator.requests[f"GET /batches/{batch_id}"] == 0


def test_the_results_file_gets_the_users_umask(url: str, tmp_path: Path, clock: VirtualClock) -> None:
    batch_id = json.loads(call("submit", str(write_requests(tmp_path / "in.jsonl")), "--json", "--base-url", url,
                               "--api-key", "sk-emulator").out)["id"]  # fmt: skip
    clock.now += 100
    old = os.umask(0o022)
    try:
        assert call("results", batch_id, "--output", str(tmp_path / "r.jsonl"), "--base-url", url,
                    "--api-key", "sk-emulator").code == 0  # fmt: skip
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "r.jsonl").stat().st_mode) == 0o644


def test_results_of_a_running_batch_say_so_and_fail(url: str, tmp_path: Path) -> None:
    batch_id = json.loads(call("submit", str(write_requests(tmp_path / "in.jsonl")), "--json", "--base-url", url,
                               "--api-key", "sk-emulator").out)["id"]  # fmt: skip
    result = call("results", batch_id, "--base-url", url, "--api-key", "sk-emulator")
    assert "is in_queue" in one_line_error(result, 1)
    assert result.out == ""
    partial = call("results", batch_id, "--partial", "--base-url", url, "--api-key", "sk-emulator")
    assert partial.code == 0


@pytest.mark.parametrize(
    "flags", [["--poll-interval", "-1"], ["--timeout", "-5"], ["--poll-interval", "nan"], ["--max-outage", "x"]]
)
def test_negative_or_odd_durations_are_usage_errors(url: str, flags: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["wait", "batch_x", *flags, "--base-url", url], stdout=io.StringIO(), stderr=io.StringIO())
    assert caught.value.code == 2


def test_the_emulator_on_a_port_in_use_is_one_line() -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        err = one_line_error(call("emulator", "--port", str(port)))
    assert f"--port: cannot listen on 127.0.0.1:{port}" in err


def test_the_emulator_banner_never_shows_the_key(tmp_path: Path) -> None:
    env = {**os.environ, "SILICONFLOW_API_KEY": "sk-banner-SECRET-42"}
    process = subprocess.Popen(
        [sys.executable, "-m", "siliconflow_batch", "emulator", "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        assert url.startswith("http://127.0.0.1:")
        client = sf.SiliconFlow(api_key="sk-banner-SECRET-42", base_url=url)
        assert client.files.list() == []  # the emulator took the key from the environment
    finally:
        process.terminate()
        _, err = process.communicate(timeout=30)
    assert "SECRET" not in err
    assert "listening on" in err


def test_a_wait_on_a_port_nobody_listens_on_fails_fast_naming_the_host() -> None:
    with socket.socket() as free:
        free.bind(("127.0.0.1", 0))
        port = free.getsockname()[1]
    started = time.monotonic()
    result = call(
        "wait", "batch_x", "--base-url", f"http://127.0.0.1:{port}/v1", "--api-key", "k", "--max-retries", "0"
    )
    err = one_line_error(result, 1)
    assert f"127.0.0.1:{port}" in err
    assert "never answered" in err
    assert time.monotonic() - started < 20


class _Stub(BaseHTTPRequestHandler):
    """Answers every GET with one fixed JSON body (set on the class)."""

    body: Any = None

    def do_GET(self) -> None:
        data = json.dumps(self.body).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def stub() -> Iterator[tuple[str, type[_Stub]]]:
    handler = type("Handler", (_Stub,), {})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", handler
    server.shutdown()
    server.server_close()


def test_a_batch_with_millisecond_timestamps_shows_in_get_and_list(stub: tuple[str, type[_Stub]]) -> None:
    url, handler = stub
    odd = batch(created_at=1741685413000, errors=[{"code": "x", "message": "bad line", "line": 3}])
    handler.body = odd
    got = call("get", "batch_1", "--base-url", url, "--api-key", "k")
    assert got.code == 0, got.err
    assert "2025-03-11T09:30:13+00:00" in got.out
    assert "line 3: [x] bad line" in got.out
    handler.body = {"object": "list", "data": [odd], "first_id": "batch_1", "last_id": "batch_1", "has_more": False}
    listed = call("list", "--base-url", url, "--api-key", "k")
    assert listed.code == 0, listed.err
    assert "2025-03-11T09:30:13+00:00" in listed.out


def test_failure_text_is_its_message_whole_on_one_line(url: str, tmp_path: Path, clock: VirtualClock) -> None:
    batch_id = json.loads(call("submit", str(write_requests(tmp_path / "in.jsonl")), "--json", "--base-url", url,
                               "--api-key", "sk-emulator").out)["id"]  # fmt: skip
    clock.now += 100
    text = call("results", batch_id, "--base-url", url, "--api-key", "sk-emulator").out
    (failed,) = [line for line in text.splitlines() if "\tFAILED\t" in line]
    shown = failed.split("\t")[2]
    full = [json.loads(line) for line in call("results", batch_id, "--json", "--base-url", url, "--api-key",
                                              "sk-emulator").out.splitlines()]  # fmt: skip
    (error,) = [r["error"] or r["response"]["body"]["error"] for r in full if not r["ok"]]
    message = " ".join(error["message"].split())
    assert message
    assert shown.endswith(message)  # whole, not cut mid-JSON (issue 23)
    assert "\u2026" not in shown


def test_the_mixed_model_message_names_the_flag_and_lines(tmp_path: Path) -> None:
    path = tmp_path / "mixed.jsonl"
    lines = [
        {"custom_id": "a", "body": {"model": MODEL, "messages": [{"role": "user", "content": "x"}]}},
        {"custom_id": "b", "body": {"model": "Qwen/QwQ-32B", "messages": [{"role": "user", "content": "x"}]}},
    ]
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = call("validate", str(path))
    assert result.code == 2
    assert "line 2: body.model" in result.out
    assert "--model" in result.out
    assert f"{MODEL} (line 1)" in result.out


def test_the_live_clock_ticks_while_the_status_stands_still() -> None:
    class Terminal(io.StringIO):
        def isatty(self) -> bool:
            return True

    err = Terminal()
    out = Output(False, io.StringIO(), err)
    out.progress(sf.Batch.from_dict(batch(status="in_progress")), time.monotonic() - 65)
    out.tick()
    out.close_bar()
    frames = err.getvalue().split("\r")
    assert frames[-1].rstrip().endswith("1:05")
    assert len(frames) >= 3  # drawn, then redrawn by the tick with the same status
