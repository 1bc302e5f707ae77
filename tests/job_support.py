"""What the job tests share: request writers, clients on an emulator, and what the emulator holds of a job."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import httpx

from siliconflow_batch import AsyncSiliconFlow, SiliconFlow
from siliconflow_batch.testing import Emulator

MODEL = "deepseek-ai/DeepSeek-V3"


def request(i: int, *, model: str = MODEL, **body: Any) -> dict[str, Any]:
    """One chat-completion request line with custom_id ``r{i}``."""
    return {"custom_id": f"r{i}", "body": {"model": model, "messages": [{"role": "user", "content": f"q{i}"}], **body}}


def write_requests(path: Path, count: int, **body: Any) -> Path:
    """A JSONL file of ``count`` requests, r0..r{count-1}."""
    path.write_text("".join(json.dumps(request(i, **body)) + "\n" for i in range(count)))
    return path


def client_for(mode: str, emulator: Emulator) -> SiliconFlow | AsyncSiliconFlow:
    """A sync or async client on the emulator's in-process transport."""
    transport = emulator.transport()
    base = "http://emulator/v1"
    if mode == "sync":
        return SiliconFlow(api_key=emulator.api_key, base_url=base, http_client=httpx.Client(transport=transport))
    return AsyncSiliconFlow(api_key=emulator.api_key, base_url=base, http_client=httpx.AsyncClient(transport=transport))


def batches_per_shard_attempt(emulator: Emulator, job_id: str) -> Counter[tuple[str, str]]:
    """How many batches the emulator holds for each (shard, attempt) of the job: 1 each, or a bug."""
    return Counter(
        (b["metadata"]["sf_shard"], b["metadata"]["sf_attempt"])
        for b in emulator.batches()
        if (b.get("metadata") or {}).get("sf_job") == job_id
    )


def assert_tallies_match(job_dir: Path) -> None:
    """The ledger's tallies (what a job's status counts, kept by each transition) are what its requests say."""
    import sqlite3

    with sqlite3.connect(job_dir / "ledger.sqlite") as db:
        kept = {(o, a): n for o, a, n in db.execute("SELECT outcome, attempts, requests FROM tallies") if n}
        scan = "SELECT COALESCE(outcome, 'pending'), attempts, COUNT(*) FROM requests GROUP BY 1, 2"
        counted = {(o, a): n for o, a, n in db.execute(scan)}
    assert kept == counted, (kept, counted)
