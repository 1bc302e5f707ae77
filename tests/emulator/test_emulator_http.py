"""The emulator's HTTP handling and the vendor's rules it enforces: broken requests get a 400, bad uploads never
break it for good, a wrong key costs no upload, and big uploads go to disk."""

from __future__ import annotations

import json
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch.testing import DEFAULT_MODELS, Emulator, RunningServer, VirtualClock
from siliconflow_batch.validation import MAX_LINES

MODEL = "deepseek-ai/DeepSeek-V3"


@pytest.fixture
def client(emulator: Emulator, server: RunningServer) -> Iterator[sf.SiliconFlow]:
    with sf.SiliconFlow(api_key=emulator.api_key, base_url=server.url, max_retries=0) as made:
        yield made


def _raw(server: RunningServer, data: bytes, *, timeout: float = 10.0) -> bytes:
    """Send raw bytes to the server; return everything it answers before closing or going quiet."""
    with socket.create_connection(("127.0.0.1", server.port), timeout=timeout) as sock:
        sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
        answer = b""
        try:
            while chunk := sock.recv(65536):
                answer += chunk
        except TimeoutError:
            pass
    return answer


def _line(custom_id: str, **body: Any) -> str:
    return json.dumps(
        {"custom_id": custom_id, "body": {"model": MODEL, "messages": [{"role": "user", "content": "q"}], **body}}
    )


def _upload(client: sf.SiliconFlow, tmp_path: Path, text: str, name: str = "in.jsonl") -> str:
    path = tmp_path / name
    path.write_text(text)
    return client.files.upload(path, validate=False).id


# --- bad uploads ---------------------------------------------------------------------------------------------------


def test_a_first_line_that_is_not_json_fails_alone_and_breaks_nothing(
    client: sf.SiliconFlow, tmp_path: Path, clock: VirtualClock
) -> None:
    file_id = _upload(client, tmp_path, "{oops\n" + _line("r1") + "\n")
    created = client.batches.create(input_file_id=file_id)
    clock.now += 100
    assert [b.id for b in client.batches.list()] == [created.id]  # the list still works
    done = client.batches.wait(created.id, poll_interval=1)
    assert done.counts == (2, 1, 1)
    results = {r.custom_id: r for r in client.batches.results(done)}
    assert results["r1"].ok
    assert not results["line-1"].ok


def test_a_bad_line_keeps_its_own_custom_id(client: sf.SiliconFlow, tmp_path: Path, clock: VirtualClock) -> None:
    bad = json.dumps({"custom_id": "r2", "body": {"messages": "not a list"}})
    file_id = _upload(client, tmp_path, "\n".join([_line("r1"), bad, _line("r3")]) + "\n")
    batch = client.batches.create(input_file_id=file_id)
    clock.now += 100
    done = client.batches.wait(batch.id, poll_interval=1)
    results = {r.custom_id: r.ok for r in client.batches.results(done)}
    assert results == {"r1": True, "r2": False, "r3": True}
    assert done.counts.failed == 1


def test_only_jsonl_files_are_accepted(emulator: Emulator, server: RunningServer) -> None:
    # Sent by hand: the client uploads any file under a .jsonl name, so it never meets this refusal.
    answer = httpx.post(
        f"{server.url}/files",
        data={"purpose": "batch"},
        files={"file": ("in.csv", (_line("r1") + "\n").encode(), "application/jsonl")},
        headers={"Authorization": f"Bearer {emulator.api_key}"},
    )
    assert answer.status_code == 400
    assert "JSONL" in answer.text


def test_the_line_limit_is_enforced_on_create(client: sf.SiliconFlow, tmp_path: Path) -> None:
    file_id = _upload(client, tmp_path, "".join(_line(f"r{i}") + "\n" for i in range(MAX_LINES + 1)))
    with pytest.raises(sf.BadRequestError, match=f"the limit is {MAX_LINES}"):
        client.batches.create(input_file_id=file_id)


def test_replace_must_be_an_object(
    emulator: Emulator, server: RunningServer, client: sf.SiliconFlow, tmp_path: Path
) -> None:
    file_id = _upload(client, tmp_path, _line("r1") + "\n")
    body = {"input_file_id": file_id, "endpoint": "/v1/chat/completions", "completion_window": "24h", "replace": "x"}
    answer = httpx.post(f"{server.url}/batches", json=body, headers={"Authorization": f"Bearer {emulator.api_key}"})
    assert answer.status_code == 400
    assert "replace must be an object" in answer.text


def test_file_name_is_in_list_views_only(client: sf.SiliconFlow, tmp_path: Path) -> None:
    batch = client.batches.create(input_file_id=_upload(client, tmp_path, _line("r1") + "\n"))
    assert "file_name" not in batch.to_dict()
    assert "file_name" not in client.batches.retrieve(batch.id).to_dict()
    assert next(iter(client.batches.list())).file_name == "in.jsonl"


def test_the_models_are_the_vendors() -> None:
    assert (
        frozenset(
            {
                "deepseek-ai/DeepSeek-V3",
                "deepseek-ai/DeepSeek-R1",
                "Qwen/QwQ-32B",
                "deepseek-ai/DeepSeek-V3.1-Terminus",
                "moonshotai/Kimi-K2-Instruct-0905",
            }
        )
        == DEFAULT_MODELS
    )


# --- HTTP -----------------------------------------------------------------------------------------------------------


def test_a_chunked_body_is_read(emulator: Emulator, server: RunningServer) -> None:
    body = json.dumps({"input_file_id": "file-none", "endpoint": "/v1/chat/completions", "completion_window": "24h"})

    def chunks() -> Iterator[bytes]:
        yield body[:10].encode()
        yield body[10:].encode()

    answer = httpx.post(
        f"{server.url}/batches", content=chunks(), headers={"Authorization": f"Bearer {emulator.api_key}"}
    )
    assert answer.status_code == 400
    assert "file-none does not exist" in answer.text  # the body was read, not taken as empty


@pytest.mark.parametrize("length", ["-5", "abc", "1, 2", "99999999999999999999999999"])
def test_a_malformed_content_length_gets_a_400(emulator: Emulator, server: RunningServer, length: str) -> None:
    head = (
        f"POST /v1/batches HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {emulator.api_key}\r\n"
        f"Content-Length: {length}\r\n\r\n{{}}"
    )
    started = time.monotonic()
    answer = _raw(server, head.encode())
    assert answer.startswith(b"HTTP/1.1 400"), answer[:80]
    assert time.monotonic() - started < 5


def test_head_and_options_get_proper_answers(emulator: Emulator, server: RunningServer) -> None:
    auth = {"Authorization": f"Bearer {emulator.api_key}"}
    head = httpx.head(f"{server.url}/files?purpose=batch", headers=auth)
    get = httpx.get(f"{server.url}/files?purpose=batch", headers=auth)
    assert head.status_code == get.status_code == 200
    assert head.content == b""
    assert head.headers["content-length"] == get.headers["content-length"]
    options = httpx.options(f"{server.url}/batches")
    assert options.status_code == 204
    assert "POST" in options.headers["allow"]


def test_a_wrong_key_is_refused_before_the_body_is_read(emulator: Emulator, server: RunningServer) -> None:
    head = b"POST /v1/files HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer sk-wrong\r\nContent-Length: 1000000000\r\n\r\n"
    with socket.create_connection(("127.0.0.1", server.port), timeout=10) as sock:
        sock.sendall(head)  # and no body at all: an answer can only come before reading one
        answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 401")
    assert emulator.requests["POST /files"] == 0


def test_a_big_upload_goes_to_disk_not_memory(client: sf.SiliconFlow, tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    line = (_line("x", padding="p" * 4000) + "\n").encode()
    with path.open("wb") as handle:
        for i in range(10_000):  # about 40 MB
            handle.write(line.replace(b'"x"', f'"r{i}"'.encode(), 1))
    size = path.stat().st_size
    tracemalloc.start()
    try:
        uploaded = client.files.upload(path, validate=False)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert uploaded.bytes == size
    assert peak < size / 4, f"peak {peak / 1e6:.1f} MB for a {size / 1e6:.1f} MB upload"


def test_concurrent_clients_over_keep_alive_connections(emulator: Emulator, server: RunningServer) -> None:
    errors: list[str] = []

    def work() -> None:
        with httpx.Client(base_url=server.url, headers={"Authorization": f"Bearer {emulator.api_key}"}) as http:
            for _ in range(20):
                if http.get("/files", params={"purpose": "batch"}).status_code != 200:
                    errors.append("not 200")

    threads = [threading.Thread(target=work) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert emulator.requests["GET /files"] == 160


def test_a_test_can_seed_and_inspect_the_emulator(emulator: Emulator, client: sf.SiliconFlow) -> None:
    ids = emulator.seed_batches(250)
    assert len(ids) == len(set(ids)) == 250
    listed = [b.id for b in client.batches.list(limit=100)]
    assert listed == ids[::-1]  # newest first, over three pages
    assert [b["id"] for b in emulator.batches()] == listed
    assert [f["filename"] for f in emulator.files()] == ["seed.jsonl"]
