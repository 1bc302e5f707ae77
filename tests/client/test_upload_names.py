"""A valid input file is never refused for its name: it is uploaded under a ``.jsonl`` name, as the vendor requires."""

from __future__ import annotations

from pathlib import Path, PurePath
from typing import Any

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch._batch_logic import upload_name
from siliconflow_batch.testing import Emulator, RunningServer

from cli_support import write_requests
from fakes import run


def _client(mode: str, emulator: Emulator, server: RunningServer) -> Any:
    if mode == "sync":
        return sf.SiliconFlow(api_key=emulator.api_key, base_url=server.url)
    http = httpx.AsyncClient(limits=httpx.Limits(max_keepalive_connections=0))  # each run() is a new event loop
    return sf.AsyncSiliconFlow(api_key=emulator.api_key, base_url=server.url, http_client=http)


@pytest.mark.parametrize(
    ("name", "sent"),
    [
        ("requests.jsonl", "requests.jsonl"),
        ("requests.txt", "requests.txt.jsonl"),
        ("requests", "requests.jsonl"),
        ("Requests.JSONL", "Requests.jsonl"),
        ("data.json", "data.json.jsonl"),
        (".jsonl", ".jsonl"),
    ],
)
def test_the_name_sent_keeps_the_users_and_ends_in_jsonl(name: str, sent: str) -> None:
    assert upload_name(PurePath("some/dir") / name) == sent


@pytest.mark.parametrize("name", ["requests.txt", "batch-input", "in.JSONL"])
def test_a_valid_file_of_any_name_uploads_and_a_batch_runs_on_it(
    mode: str, emulator: Emulator, server: RunningServer, tmp_path: Path, name: str
) -> None:
    path = write_requests(tmp_path / name)
    client = _client(mode, emulator, server)
    uploaded = run(client.files.upload(path))  # the emulator refuses any name but *.jsonl, as the vendor does
    assert uploaded.filename == upload_name(path)
    assert uploaded.filename.endswith(".jsonl")
    assert uploaded.filename.startswith(path.name.rsplit(".", 1)[0])  # still the user's name
    assert path.exists()  # the file is not renamed on disk
    created = run(client.batches.create(input_file_id=uploaded.id))
    assert created.input_file_id == uploaded.id


def test_the_raw_upload_sends_the_jsonl_name_too(
    mode: str, emulator: Emulator, server: RunningServer, tmp_path: Path
) -> None:
    path = write_requests(tmp_path / "prompts.txt")
    raw = run(_client(mode, emulator, server).files.with_raw_response.upload(path))
    assert raw.status_code == 200
    assert raw.parse().filename == "prompts.txt.jsonl"
