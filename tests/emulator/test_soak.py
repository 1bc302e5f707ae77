"""Soak: 200 batches of 50 requests, submitted and awaited at once through the emulator's HTTP server while 5 %
of the answers are faults (503, 504, 429 with Retry-After, dropped connections).

It must end with every batch terminal, exactly one batch per job, and every request's result counted once.
Bounded: it stops itself after two minutes. It prints what it survived.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections import Counter
from pathlib import Path

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch.testing import Emulator, Faults

pytestmark = [pytest.mark.soak, pytest.mark.slow]

JOBS = 200
REQUESTS_PER_JOB = 50
FAULT_RATE = 0.05
TIME_LIMIT = 120.0


class _RetryCounter(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.retries = 0

    def emit(self, record: logging.LogRecord) -> None:
        if record.getMessage().startswith("retrying "):
            self.retries += 1


def _write_job(directory: Path, job: int) -> tuple[Path, list[str]]:
    path = directory / f"job-{job:03d}.jsonl"
    ids = [f"job{job:03d}-req{i:02d}" for i in range(REQUESTS_PER_JOB)]
    path.write_text(
        "".join(
            json.dumps(
                {
                    "custom_id": cid,
                    "method": "POST",
                    "url": "/v1/chat/completions",
                    "body": {"model": "Qwen/QwQ-32B", "messages": [{"role": "user", "content": cid}]},
                }
            )
            + "\n"
            for cid in ids
        )
    )
    return path, ids


async def _job(client: sf.AsyncSiliconFlow, path: Path, ids: list[str], key: str) -> tuple[sf.Batch, list[str]]:
    while True:  # an upload that may have happened is simply done again: a spare file costs nothing
        try:
            file = await client.files.upload(path)
            break
        except (sf.APIConnectionError, sf.InternalServerError):
            await asyncio.sleep(0.1)
    batch = await client.batches.create(input_file_id=file.id, idempotency_key=key)
    done = await client.batches.wait(batch.id, poll_interval=0.5)
    results = [r.custom_id async for r in client.batches.results(done, expected_ids=ids)]
    return done, results


def test_soak(tmp_path: Path) -> None:
    faults = Faults(rate=FAULT_RATE, seed=2026, kinds=("overloaded", "gateway_timeout", "rate_limit", "drop"))
    faults.retry_after = 1
    emulator = Emulator(stage_seconds=0.5, faults=faults)
    jobs = [_write_job(tmp_path, job) for job in range(JOBS)]
    counter = _RetryCounter()
    logger = logging.getLogger("siliconflow_batch")
    logger.addHandler(counter)
    old_level = logger.level
    logger.setLevel(logging.DEBUG)
    started = time.monotonic()
    try:
        with emulator.serve() as server:

            async def everything() -> list[tuple[sf.Batch, list[str]]]:
                http = httpx.AsyncClient(limits=httpx.Limits(max_connections=64))
                async with sf.AsyncSiliconFlow(
                    api_key=emulator.api_key, base_url=server.url, max_retries=4, http_client=http
                ) as client:
                    runs = [_job(client, path, ids, f"soak-{n}") for n, (path, ids) in enumerate(jobs)]
                    return await asyncio.wait_for(asyncio.gather(*runs), TIME_LIMIT)

            outcomes = asyncio.run(everything())
    finally:
        logger.removeHandler(counter)
        logger.setLevel(old_level)
    elapsed = time.monotonic() - started

    statuses = Counter(str(batch.status) for batch, _ in outcomes)
    stored_keys = Counter((b["metadata"] or {}).get("idempotency_key") for b in emulator.batches())
    total_requests = sum(emulator.requests.values())
    print(
        f"\nsoak: {JOBS} batches x {REQUESTS_PER_JOB} requests in {elapsed:.1f} s; "
        f"{total_requests} HTTP requests, faults {dict(sorted(faults.injected.items()))} "
        f"({sum(faults.injected.values())} in all), {counter.retries} retries; statuses {dict(statuses)}"
    )
    assert statuses == {"completed": JOBS}
    assert len(emulator.batches()) == JOBS  # exactly one batch per job, whatever the faults
    assert set(stored_keys.values()) == {1}
    for (batch, results), (_, ids) in zip(outcomes, jobs, strict=True):
        assert sorted(results) == ids  # every request's result, each once
        assert batch.counts == sf.RequestCounts(REQUESTS_PER_JOB, REQUESTS_PER_JOB, 0)
    assert sum(faults.injected.values()) > 0.02 * total_requests  # the faults really happened
    assert counter.retries > 0
