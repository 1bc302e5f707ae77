"""Run a job (the CLI's ``run``, or a client's) and SIGKILL it at one exact step, with no hook in the package.

Usage: ``python crash_runner.py EVENTS KILL_AT MODE ARGS...``. Before the job starts, the runner wraps the two
things that make a job's steps: SQLite (every ``COMMIT`` of the ledger, a durable step) and httpx's transports
(every HTTP exchange). Each step is appended to the file ``EVENTS`` as it happens (``commit``, ``committed``, ``http
POST /files``...), so a reference run tells the test how many steps there are; with ``KILL_AT`` set to ``N`` (not
``-``), the process kills itself with SIGKILL at the N-th step: before a commit (the transaction is lost), just
after one, or once an exchange's response has arrived and before the client has read it (the server did the work,
the client never learns of it). ``MODE`` is ``cli`` (ARGS are the command's), or ``async`` or ``sync`` (that
client's job; ARGS: base URL, input, job directory, output, max_concurrency). With ``CAP_LEDGER`` set to a job's
ledger, every committed step also checks that the job's committed cost (spent, plus the bounds of the shards in
flight) is within its cap, read straight from the ledger's tables; a breach is appended to ``EVENTS.cap``.
"""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import sys
from typing import Any

import httpx

_events_fd = -1
_kill_at = 0
_count = 0


def _step(name: str) -> None:
    """Record one step; at the chosen one, die as a crash would (no cleanup, no flush, no atexit)."""
    global _count
    _count += 1
    os.write(_events_fd, f"{name}\n".encode())
    if _count == _kill_at:
        os.kill(os.getpid(), signal.SIGKILL)


_connect = sqlite3.connect
_cap_file = ""


def _check_cap() -> None:
    """Committed within the cap in the ledger state just committed (a breach is written down, not raised)."""
    path = os.environ.get("CAP_LEDGER")
    if not path or not os.path.exists(path):
        return
    import json
    from decimal import Decimal

    from siliconflow_batch.pricing import PriceTable

    db = _connect(path)
    try:
        meta = dict(db.execute("SELECT key, value FROM meta").fetchall())
        if "settings" not in meta or "prices" not in meta:
            return
        cap = json.loads(meta["settings"]).get("max_cost")
        prices = PriceTable.from_data(json.loads(meta["prices"]))
        total = Decimal(0)
        for model, input_tokens, output_tokens in db.execute("SELECT model, input_tokens, output_tokens FROM usage"):
            price = prices.price_of(model)
            assert price is not None
            total += price.cost(input_tokens, output_tokens)
        rows = db.execute("SELECT bound FROM shards WHERE state IN ('creating', 'created', 'ended')").fetchall()
        total += sum((Decimal(bound) for (bound,) in rows), Decimal(0))
    finally:
        db.close()
    if cap is not None and total > Decimal(cap):
        with open(_cap_file, "a") as out:
            out.write(f"step {_count}: committed {total} > cap {cap}\n")


class _CountingConnection(sqlite3.Connection):
    def execute(self, sql: str, *args: Any) -> sqlite3.Cursor:
        if sql == "COMMIT":
            _step("commit")  # killed here: the transaction is rolled back by the next process
            cursor = super().execute(sql, *args)
            _check_cap()
            _step("committed")  # killed here: the step is durable, nothing after it happened
            return cursor
        return super().execute(sql, *args)


def _route(request: httpx.Request) -> str:
    path = re.sub(r"/(batch_|file-)[^/]+", r"/\1ID", request.url.path)
    return f"http {request.method} {path}"


def _install() -> None:
    connect = sqlite3.connect

    def counting_connect(*args: Any, **kwargs: Any) -> sqlite3.Connection:
        kwargs.setdefault("factory", _CountingConnection)
        connection: sqlite3.Connection = connect(*args, **kwargs)
        return connection

    sqlite3.connect = counting_connect  # type: ignore[assignment]

    sync_send = httpx.HTTPTransport.handle_request
    async_send = httpx.AsyncHTTPTransport.handle_async_request

    def handle_request(self: httpx.HTTPTransport, request: httpx.Request) -> httpx.Response:
        response = sync_send(self, request)
        _step(_route(request))
        return response

    async def handle_async_request(self: httpx.AsyncHTTPTransport, request: httpx.Request) -> httpx.Response:
        response = await async_send(self, request)
        _step(_route(request))
        return response

    httpx.HTTPTransport.handle_request = handle_request  # type: ignore[method-assign]
    httpx.AsyncHTTPTransport.handle_async_request = handle_async_request  # type: ignore[method-assign]


def _run_options(job_dir: str, concurrency: str) -> dict[str, Any]:
    """What both clients' jobs are run with."""
    return {
        "job_dir": job_dir, "max_shard_lines": 100, "poll_interval": 0.001, "max_poll_interval": 0.001,
        "max_concurrency": int(concurrency),
    }  # fmt: skip


async def _async_job(url: str, source: str, job_dir: str, output: str, concurrency: str) -> None:
    from siliconflow_batch import AsyncSiliconFlow

    async with AsyncSiliconFlow(api_key="sk-emulator", base_url=url) as client:
        job = await client.jobs.run(source, **_run_options(job_dir, concurrency))
        async with job:
            await job.write_results(output)


def _sync_job(url: str, source: str, job_dir: str, output: str, concurrency: str) -> None:
    """The sync client's job (its engine, generated from the async one, sends one shard at a time)."""
    from siliconflow_batch import SiliconFlow

    with SiliconFlow(api_key="sk-emulator", base_url=url) as client:
        job = client.jobs.run(source, **_run_options(job_dir, concurrency))
        with job:
            job.write_results(output)


def main() -> None:
    global _events_fd, _kill_at, _cap_file
    events, kill_at, mode, *args = sys.argv[1:]
    _cap_file = events + ".cap"
    _events_fd = os.open(events, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    _kill_at = 0 if kill_at == "-" else int(kill_at)
    _install()
    if mode == "async":
        asyncio.run(_async_job(*args))
        return
    if mode == "sync":
        _sync_job(*args)
        return
    from siliconflow_batch.cli import run

    sys.argv = ["siliconflow-batch", *args]
    run()


if __name__ == "__main__":
    main()
