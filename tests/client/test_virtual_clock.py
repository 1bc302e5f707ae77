"""siliconflow_batch.testing.VirtualClock: a team's test of code that waits on batches runs on virtual time."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import httpx

import siliconflow_batch as sf
from siliconflow_batch import _http
from siliconflow_batch.testing import Emulator, VirtualClock


def _requests(tmp_path: Path) -> Path:
    path = tmp_path / "in.jsonl"
    line = {
        "custom_id": "a",
        "body": {"model": "deepseek-ai/DeepSeek-V3", "messages": [{"role": "user", "content": "x"}]},
    }
    path.write_text(json.dumps(line) + "\n")
    return path


def test_an_hours_long_wait_takes_no_real_time(tmp_path: Path) -> None:
    started = time.monotonic()
    with VirtualClock() as clock:
        emulator = Emulator(clock=clock.time, stage_seconds=3600)  # each stage an hour
        http = httpx.Client(transport=emulator.transport())
        with sf.SiliconFlow(api_key=emulator.api_key, base_url="http://emulator/v1", http_client=http) as client:
            batch = client.batches.create(input_file_id=client.files.upload(_requests(tmp_path)).id)
            done = client.batches.wait(batch.id, poll_interval=600)
    assert done.status == "completed"
    assert clock.now - 1_700_000_000.0 >= 6 * 3600  # six stages of virtual time went by
    assert set(clock.sleeps) == {600}
    assert time.monotonic() - started < 5


def test_the_async_client_waits_on_it_too(tmp_path: Path) -> None:
    async def scenario(clock: VirtualClock) -> sf.Batch:
        emulator = Emulator(clock=clock.time, stage_seconds=3600)
        http = httpx.AsyncClient(transport=emulator.transport())
        async with sf.AsyncSiliconFlow(api_key=emulator.api_key, base_url="http://e/v1", http_client=http) as client:
            uploaded = await client.files.upload(_requests(tmp_path))
            batch = await client.batches.create(input_file_id=uploaded.id)
            return await client.batches.wait(batch.id, poll_interval=900, timeout=10 * 3600)

    with VirtualClock() as clock:
        done = asyncio.run(scenario(clock))
    assert done.status == "completed"
    assert set(clock.sleeps) == {900}


def test_leaving_the_block_puts_the_real_clock_back() -> None:
    real = _http.monotonic()
    with VirtualClock(start=5.0) as clock:
        assert _http.monotonic() == 5.0
        clock.advance(10)
        _http.sleep(2.5)
        assert _http.monotonic() == 17.5
        assert clock.sleeps == [2.5]
    assert abs(_http.monotonic() - real) < 60
    assert "sleeps=1" in repr(clock)
