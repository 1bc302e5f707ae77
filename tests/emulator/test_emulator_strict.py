"""The emulator is as strict as the vendor by default; each leniency is an option, each vendor failure a fault."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch.testing import Emulator, Faults, RunningServer, VirtualClock

MODEL = "deepseek-ai/DeepSeek-V3"
NO_BALANCE = {"code": 30001, "message": "Sorry, your account balance is insufficient", "data": ""}


def _requests(tmp_path: Path, count: int = 3, *, failing: int | None = None) -> Path:
    path = tmp_path / "in.jsonl"
    lines = []
    for i in range(count):
        body: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": f"q{i}"}]}
        if i == failing:
            body["max_tokens"] = 10**6  # lands in the error file
        lines.append({"custom_id": f"r{i}", "body": body})
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


@pytest.fixture
def client(emulator: Emulator) -> Iterator[sf.SiliconFlow]:
    """A client on the emulator's in-process transport."""
    http = httpx.Client(transport=emulator.transport())
    with sf.SiliconFlow(api_key=emulator.api_key, base_url="http://emulator/v1", http_client=http) as made:
        yield made


def _raw(emulator: Emulator) -> httpx.Client:
    """A plain httpx client on the transport, sending the key (as a careless caller would)."""
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    return httpx.Client(transport=emulator.transport(), base_url="http://emulator/v1", headers=headers)


def _done(client: sf.SiliconFlow, tmp_path: Path, **requests: Any) -> sf.Batch:
    file = client.files.upload(_requests(tmp_path, **requests))
    batch = client.batches.create(input_file_id=file.id)
    return client.batches.wait(batch.id, poll_interval=5)


# --- input files ------------------------------------------------------------------------------------------------


def test_an_input_file_is_not_served_back(emulator: Emulator, client: sf.SiliconFlow, tmp_path: Path) -> None:
    file = client.files.upload(_requests(tmp_path))
    with pytest.raises(sf.NotFoundError):
        client.files.download(file.id, tmp_path / "back.jsonl")
    with _raw(emulator) as raw:
        answer = raw.get(f"/files/{file.id}/content")
    assert (answer.status_code, answer.text) == (404, "404 page not found")
    assert answer.headers["content-type"].startswith("text/plain")


def test_serve_inputs_serves_them_back(clock: VirtualClock, tmp_path: Path) -> None:
    emulator = Emulator(clock=clock.time, serve_inputs=True)
    source = _requests(tmp_path)
    with _raw(emulator) as raw:
        file = raw.post("/files", files={"file": ("in.jsonl", source.read_bytes())}, data={"purpose": "batch"})
        answer = raw.get(f"/files/{file.json()['data']['id']}/content")
    assert (answer.status_code, answer.content) == (200, source.read_bytes())


# --- result files -----------------------------------------------------------------------------------------------


def test_result_urls_need_their_signature_and_refuse_the_key(
    emulator: Emulator, client: sf.SiliconFlow, tmp_path: Path
) -> None:
    done = _done(client, tmp_path)
    assert isinstance(done.output_file_id, str)
    url = httpx.URL(done.output_file_id)
    with httpx.Client(transport=emulator.transport()) as bare:
        assert bare.get(url).status_code == 200  # no key needed: the signature is the key
        unsigned = bare.get(url.copy_with(query=b"Signature=0123"))
        assert unsigned.status_code == 403
        assert bare.get(url.copy_with(query=None)).status_code == 403
        assert bare.post(url).status_code == 404
        keyed = bare.get(url, headers={"Authorization": f"Bearer {emulator.api_key}"})
        assert keyed.status_code == 400  # a presigned link with a second credential is refused
        forged = httpx.URL(f"http://emulator-files/results/{done.input_file_id}/in.jsonl?{url.query.decode()}")
        assert bare.get(forged).status_code == 404  # input files are not results, whatever the URL


def test_over_sockets_result_urls_name_the_server_by_another_host(
    emulator: Emulator, server: RunningServer, tmp_path: Path
) -> None:
    sent: list[httpx.Request] = []
    http = httpx.Client(event_hooks={"request": [sent.append]})
    with sf.SiliconFlow(api_key=emulator.api_key, base_url=server.url, http_client=http) as client:
        done = _done(client, tmp_path, failing=1)
        assert isinstance(done.output_file_id, str)
        assert isinstance(done.error_file_id, str)
        for ref in (done.output_file_id, done.error_file_id):
            assert re.fullmatch(rf"http://localhost:{server.port}/results/file-\w+/\S+\.jsonl\?Signature=\w+", ref)
        results = list(client.batches.results(done))
    assert sorted(r.custom_id for r in results) == ["r0", "r1", "r2"]
    downloads = [r for r in sent if r.url.host == "localhost"]
    assert len(downloads) == 2
    assert not any("authorization" in r.headers for r in downloads)
    assert all("authorization" in r.headers for r in sent if r.url.host == "127.0.0.1")


def test_result_host_names_the_result_urls_host(clock: VirtualClock, tmp_path: Path) -> None:
    emulator = Emulator(clock=clock.time, stage_seconds=10, result_host="files.test")
    http = httpx.Client(transport=emulator.transport())
    with sf.SiliconFlow(api_key=emulator.api_key, base_url="http://emulator:8000/v1", http_client=http) as client:
        done = _done(client, tmp_path)
        assert str(done.output_file_id).startswith("http://files.test:8000/results/")
        results = list(client.batches.results(done))
        assert [r.custom_id for r in results] == ["r0", "r1", "r2"]  # read through the named host
        assert all(r.ok for r in results)


# --- no file ----------------------------------------------------------------------------------------------------


def test_a_missing_result_file_reads_as_an_empty_string(
    emulator: Emulator, client: sf.SiliconFlow, tmp_path: Path
) -> None:
    file = client.files.upload(_requests(tmp_path))
    created = client.batches.create(input_file_id=file.id)
    assert (created.output_file_id, created.error_file_id) == ("", "")
    done = client.batches.wait(created.id, poll_interval=5)
    assert done.error_file_id == ""  # no error lines
    assert done.output_file_id
    assert emulator.batches()[0]["error_file_id"] == ""
    assert len(list(client.batches.results(done))) == 3  # "" is no file: nothing asked for /files//content
    assert not [route for route in emulator.requests if "//" in route]


def test_missing_file_id_none_gives_null(clock: VirtualClock, tmp_path: Path) -> None:
    emulator = Emulator(clock=clock.time, stage_seconds=10, missing_file_id=None)
    assert emulator.seed_batches(1)
    assert emulator.batches()[0]["output_file_id"] is None
    assert emulator.batches()[0]["error_file_id"] is None


# --- faults: insufficient balance --------------------------------------------------------------------------------


def test_insufficient_balance_on_create_answers_402_and_creates_nothing(
    emulator: Emulator, client: sf.SiliconFlow, tmp_path: Path
) -> None:
    file = client.files.upload(_requests(tmp_path))
    emulator.faults.inject("insufficient_balance", route="POST /batches")
    with _raw(emulator) as raw:
        refused = raw.post(
            "/batches", json={"input_file_id": file.id, "endpoint": "/v1/chat/completions", "completion_window": "24h"}
        )
    assert refused.status_code == 402
    assert refused.json() == NO_BALANCE
    assert emulator.batches() == []
    assert emulator.faults.injected["insufficient_balance"] == 1
    assert client.batches.create(input_file_id=file.id).status == "in_queue"  # once only


def test_insufficient_balance_reaches_the_client_as_a_402(
    emulator: Emulator, client: sf.SiliconFlow, tmp_path: Path
) -> None:
    file = client.files.upload(_requests(tmp_path))
    emulator.faults.inject("insufficient_balance", route="POST /batches", times=5)
    with pytest.raises(sf.APIStatusError) as refused:
        client.batches.create(input_file_id=file.id)
    assert refused.value.status_code == 402
    assert emulator.batches() == []


def test_a_create_without_recharged_balance_answers_402(clock: VirtualClock, tmp_path: Path) -> None:
    emulator = Emulator(clock=clock.time, charge_balance="0.00")
    with _raw(emulator) as raw:
        file = raw.post(
            "/files", files={"file": ("in.jsonl", _requests(tmp_path).read_bytes())}, data={"purpose": "batch"}
        )
        body = {
            "input_file_id": file.json()["data"]["id"],
            "endpoint": "/v1/chat/completions",
            "completion_window": "24h",
        }
        refused = raw.post("/batches", json=body)
        assert (refused.status_code, refused.json()) == (402, NO_BALANCE)
        assert emulator.batches() == []
        emulator.charge_balance = "10.00"  # a top-up
        assert raw.post("/batches", json=body).status_code == 200


def test_require_balance_for_create_false_creates_without_balance(clock: VirtualClock, tmp_path: Path) -> None:
    emulator = Emulator(clock=clock.time, charge_balance="0.00", require_balance_for_create=False)
    http = httpx.Client(transport=emulator.transport())
    with sf.SiliconFlow(api_key=emulator.api_key, base_url="http://emulator/v1", http_client=http) as client:
        file = client.files.upload(_requests(tmp_path))
        assert client.batches.create(input_file_id=file.id).status == "in_queue"


def test_insufficient_balance_is_never_drawn_at_random() -> None:
    with pytest.raises(ValueError, match="unknown fault kinds"):
        Faults(rate=0.5, kinds=("insufficient_balance",))
    with pytest.raises(ValueError, match="insufficient_balance"):
        Faults().inject("gremlins")


# --- faults: a result file not there yet ---------------------------------------------------------------------------


@pytest.mark.parametrize("result_urls", [True, False], ids=["url", "id"])
def test_result_not_found_hides_each_result_file_for_its_first_downloads(
    clock: VirtualClock, tmp_path: Path, result_urls: bool
) -> None:
    emulator = Emulator(clock=clock.time, stage_seconds=10, result_urls=result_urls)
    emulator.faults.result_not_found(times=2)
    http = httpx.Client(transport=emulator.transport())
    with sf.SiliconFlow(api_key=emulator.api_key, base_url="http://emulator/v1", http_client=http) as client:
        done = _done(client, tmp_path, failing=0)
    refs = [str(done.output_file_id), str(done.error_file_id)]
    # A link goes without the key; a plain id needs it.
    with httpx.Client(transport=emulator.transport()) if result_urls else _raw(emulator) as http:
        for ref in refs:
            url = ref if result_urls else f"/files/{ref}/content"
            first, second, third = http.get(url), http.get(url), http.get(url)
            assert [(a.status_code, a.text) for a in (first, second)] == [(404, "404 page not found")] * 2
            assert third.status_code == 200
            assert third.text.count("\n") == (2 if ref == refs[0] else 1)
    assert emulator.faults.injected["result_not_found"] == 4


def test_result_not_found_makes_a_download_fail_until_it_passes(
    emulator: Emulator, client: sf.SiliconFlow, tmp_path: Path
) -> None:
    done = _done(client, tmp_path)
    emulator.faults.result_not_found(times=1)
    with pytest.raises(sf.NotFoundError):
        client.files.download(str(done.output_file_id), tmp_path / "out.jsonl")
    assert len(client.files.download(str(done.output_file_id), tmp_path / "out.jsonl").read_text().splitlines()) == 3
    with pytest.raises(ValueError, match="times"):
        emulator.faults.result_not_found(times=-1)
