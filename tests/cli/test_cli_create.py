"""Creating batches from the command line: never a second batch, any file name, and a 402 in one line."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from threading import Thread

import pytest

from siliconflow_batch import cli
from siliconflow_batch.testing import Emulator, VirtualClock

from cli_support import Run, write_requests


def sfb(url: str, *args: str) -> Run:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.main([*args, "--base-url", url, "--api-key", "sk-emulator"], stdout=stdout, stderr=stderr)
    return Run(code, stdout.getvalue(), stderr.getvalue())


def test_submit_again_with_the_same_key_returns_the_batch_already_made(
    tmp_path: Path, url: str, emulator: Emulator, clock: VirtualClock
) -> None:
    path = str(write_requests(tmp_path / "in.jsonl"))
    first = sfb(url, "submit", path, "--idempotency-key", "nightly-7", "--json")
    assert first.code == 0, first.err
    again = sfb(url, "submit", path, "--idempotency-key", "nightly-7", "--json")
    assert again.code == 0, again.err
    assert again.json()["id"] == first.json()["id"]
    assert first.json()["metadata"] == {"idempotency_key": "nightly-7"}
    assert "was already created with idempotency key nightly-7" in again.err
    assert len(emulator.batches()) == 1
    assert emulator.requests["POST /batches"] == 1
    assert emulator.requests["POST /files"] == 1  # the re-run does not upload the input again
    other = sfb(url, "submit", path, "--idempotency-key", "nightly-8", "--json")
    assert other.json()["id"] != first.json()["id"]


def test_create_again_with_the_same_key_returns_the_batch_already_made(
    tmp_path: Path, url: str, emulator: Emulator, clock: VirtualClock
) -> None:
    uploaded = sfb(url, "upload", str(write_requests(tmp_path / "in.jsonl")), "--json").json()
    made = [
        sfb(url, "create", "--input-file-id", uploaded["id"], "--idempotency-key", "k-1", "--json") for _ in range(2)
    ]
    assert [m.code for m in made] == [0, 0]
    assert made[0].json()["id"] == made[1].json()["id"]
    assert emulator.requests["POST /batches"] == 1


def test_an_ambiguous_failure_inside_submit_is_resolved_without_a_second_batch(
    tmp_path: Path, url: str, emulator: Emulator, clock: VirtualClock
) -> None:
    emulator.faults.inject("gateway_timeout", route="POST /batches")  # the batch is made, the answer lost
    result = sfb(url, "submit", str(write_requests(tmp_path / "in.jsonl")), "--json")
    assert result.code == 0, result.err
    assert [b["id"] for b in emulator.batches()] == [result.json()["id"]]
    assert emulator.requests["POST /batches"] == 1


def test_an_unresolved_failure_names_the_key_and_a_rerun_with_it_finds_the_batch(
    tmp_path: Path, url: str, emulator: Emulator, clock: VirtualClock
) -> None:
    path = str(write_requests(tmp_path / "in.jsonl"))
    emulator.faults.inject("gateway_timeout", route="POST /batches")
    emulator.faults.inject("overloaded", times=1000, route="GET /batches")  # nor can it be looked up
    failed = sfb(url, "submit", path)
    assert failed.code == 1
    (line,) = [line for line in failed.err.splitlines() if line.startswith("error: ")]
    assert "the batch may have been created" in line
    assert "siliconflow-batch list" in line
    found = re.search(r"--idempotency-key (sfb-[0-9a-f]+)", line)
    assert found is not None, line
    emulator.faults.planned.clear()
    again = sfb(url, "submit", path, "--idempotency-key", found.group(1), "--json")
    assert again.code == 0, again.err
    assert [b["id"] for b in emulator.batches()] == [again.json()["id"]]  # one batch, the first one


def test_the_metadata_limit_counts_the_key(tmp_path: Path, url: str, emulator: Emulator) -> None:
    pairs = [arg for i in range(16) for arg in ("--metadata", f"k{i}=v")]
    result = sfb(url, "submit", str(write_requests(tmp_path / "in.jsonl")), *pairs)
    assert result.code == 2
    assert "metadata: has 16 pairs besides the idempotency key; the limit is 15" in result.err
    assert emulator.requests["POST /files"] == 0
    bad_key = sfb(url, "create", "--input-file-id", "file-1", "--idempotency-key", "")
    assert bad_key.code == 2
    assert "--idempotency-key: must be a non-empty string" in bad_key.err


def test_the_help_says_how_many_pairs_are_left(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        cli.main(["submit", "--help"])
    shown = " ".join(capsys.readouterr().out.split())
    assert "at most 15: the idempotency key takes one of 16" in shown
    assert "--idempotency-key KEY" in shown


@pytest.mark.parametrize("name", ["requests.txt", "requests", "requests.JSONL"])
def test_a_jsonl_file_of_any_name_is_uploaded_and_submitted(
    tmp_path: Path, url: str, emulator: Emulator, clock: VirtualClock, name: str
) -> None:
    path = write_requests(tmp_path / name)
    uploaded = sfb(url, "upload", str(path), "--json")
    assert uploaded.code == 0, uploaded.err
    assert uploaded.json()["filename"] == {"requests.txt": "requests.txt.jsonl", "requests": "requests.jsonl"}.get(
        name, "requests.jsonl"
    )
    submitted = sfb(url, "submit", str(path), "--json")
    assert submitted.code == 0, submitted.err
    assert path.name == name  # the file itself keeps its name
    assert len(emulator.batches()) == 1
    assert json.loads(submitted.out)["status"] == "in_queue"


class _NoBalance(BaseHTTPRequestHandler):
    """The vendor's answer to a create on an account without recharged balance: 402."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        data = json.dumps({"code": 30011, "message": "Sorry, your account balance is insufficient"}).encode()
        self.send_response(402)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def no_balance() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NoBalance)
    thread = Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    server.shutdown()
    server.server_close()


def test_a_402_is_one_line_naming_the_recharged_balance_exit_1(no_balance: str) -> None:
    result = sfb(no_balance, "create", "--input-file-id", "file-1")
    assert result.code == 1
    assert result.out == ""
    (line,) = result.err.splitlines()
    assert line.startswith("error: POST http://127.0.0.1:")
    assert "402 Payment Required: Sorry, your account balance is insufficient (code 30011)" in line
    assert line.endswith("batches are paid only from recharged balance; top up, then run the same command again")
