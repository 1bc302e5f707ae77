"""Benchmarks: this client against raw httpx and the openai SDK, measured side by side in one run.

Every case times ours and its baselines in the same run, over several rounds, and reports medians and
ratios: absolute times on a shared machine are noise, ratios are the claim. Servers run in a separate
process on 127.0.0.1. ``--quick`` shrinks every size (a smoke test: it checks the cases run, not targets).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import json
import math
import os
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import tracemalloc
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx

import siliconflow_batch as sf
from siliconflow_batch._parse import parse_batch_page

ROOT = Path(__file__).resolve().parent.parent
BATCH: dict[str, Any] = {
    "id": "batch_rdyqgrcgjg",
    "object": "batch",
    "endpoint": "/v1/chat/completions",
    "errors": None,
    "input_file_id": "file-jkvytbjtow",
    "completion_window": "24h",
    "status": "completed",
    "output_file_id": "file-out",
    "error_file_id": None,
    "created_at": 1741685413,
    "in_progress_at": 1741685473,
    "expires_at": 1741771813,
    "finalizing_at": 1741689000,
    "completed_at": 1741689013,
    "failed_at": None,
    "expired_at": None,
    "cancelling_at": None,
    "cancelled_at": None,
    "request_counts": {"total": 100, "completed": 98, "failed": 2},
    "metadata": {"job": "nightly"},
}


@dataclass
class Row:
    """One line of the report."""

    case: str
    ours: float
    baseline: str
    value: float
    ratio: float
    target: str
    holds: bool | None
    unit: str = "s"
    notes: dict[str, Any] = field(default_factory=dict)


def median_time(function: Callable[[], object], rounds: int) -> float:
    """Median wall time of ``function`` over ``rounds`` runs (after one warm-up)."""
    function()
    times = []
    for _ in range(rounds):
        gc.collect()
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_medians(functions: tuple[Callable[[], object], ...], rounds: int) -> list[float]:
    """Median wall time of each function, timed in turn within every round (after one warm-up each).

    Interleaved, so that a ratio compares runs made under the same load: on a shared machine, timing one function's
    rounds and then the other's lets the load change in between and swing the ratio.
    """
    for function in functions:
        function()
    times: list[list[float]] = [[] for _ in functions]
    for _ in range(rounds):
        for function, spent in zip(functions, times, strict=True):
            gc.collect()
            start = time.perf_counter()
            function()
            spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


# --- servers in another process ------------------------------------------------------------------------------

SERVER = r"""
import json, sys, threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
batch = sys.argv[1].encode()
mb = float(sys.argv[2])
line = json.dumps({"id": "batch_req_x", "custom_id": "req-000000", "error": None, "response": {
    "status_code": 200, "request_id": "r", "body": {"id": "chatcmpl-x", "object": "chat.completion",
    "choices": [{"index": 0, "message": {"role": "assistant", "content": "y" * 200}, "finish_reason": "stop"}],
    "usage": {"prompt_tokens": 10, "completion_tokens": 50, "total_tokens": 60}}}}).encode() + b"\n"
count = int(mb * 1024 * 1024 / len(line))
big = b"".join(line.replace(b"req-000000", b"req-%06d" % i) for i in range(count))
class H(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    def log_message(self, *a): pass
    def do_GET(self):
        body = big if self.path.endswith("/content") else batch
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream" if body is big else "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        view = memoryview(body)
        for i in range(0, len(body), 1 << 20):
            self.wfile.write(view[i:i + (1 << 20)])
server = ThreadingHTTPServer(("127.0.0.1", 0), H)
print(server.server_address[1], count, flush=True)
server.serve_forever()
"""

EMULATOR = r"""
import sys
from siliconflow_batch.testing import Emulator
emulator = Emulator(stage_seconds=0.0)
emulator.seed_batches(int(sys.argv[1]))
server = emulator.serve()
print(server.url, flush=True)
sys.stdin.read()
"""


@contextlib.contextmanager
def process(code: str, *args: str) -> Iterator[str]:
    """Run ``code`` in another Python process; yield the first line it prints."""
    child = subprocess.Popen(
        [sys.executable, "-c", code, *args], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert child.stdout is not None
        yield child.stdout.readline().strip()
    finally:
        child.kill()
        child.wait()


# --- cases ---------------------------------------------------------------------------------------------------


def case_import(rounds: int) -> list[Row]:
    # Every statement runs with compiled bytecode, as an installed wheel has it: a cache folder of our own
    # (PYTHONDONTWRITEBYTECODE, where it is set, would make this editable checkout compile at every import).
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    cache = tempfile.mkdtemp(prefix="bench-pyc-")
    env["PYTHONPYCACHEPREFIX"] = cache

    with process(SERVER, json.dumps(BATCH), "0") as started:
        base = f"http://127.0.0.1:{int(started.split()[0])}/v1"
        return _import_rows(rounds, env, base)


def _import_rows(rounds: int, env: dict[str, str], base: str) -> list[Row]:
    retrieve = f"base_url={base!r}).batches.retrieve('batch_rdyqgrcgjg')"
    statements = {
        "ours": "from siliconflow_batch import SiliconFlow",
        "openai": "from openai import OpenAI",
        "httpx": "import httpx",
        # What a first call pays on top of the import (our models load lazily; each builds an httpx client).
        "ours_first": "from siliconflow_batch import SiliconFlow; SiliconFlow(api_key='k')",
        "openai_first": "from openai import OpenAI; OpenAI(api_key='k')",
        "httpx_first": "import httpx; httpx.Client()",
        # And the first request: the models (attrs among them) load with it.
        "ours_retrieve": f"from siliconflow_batch import SiliconFlow; SiliconFlow(api_key='k', {retrieve}",
        "openai_retrieve": f"from openai import OpenAI; OpenAI(api_key='k', {retrieve}",
    }

    def once(statement: str) -> float:
        code = f"import time; t = time.perf_counter(); {statement}; print(time.perf_counter() - t)"
        done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env)
        return float(done.stdout)

    for statement in statements.values():
        once(statement)  # fills the bytecode cache
    samples: dict[str, list[float]] = {key: [] for key in statements}
    for _ in range(rounds):  # interleaved, so that a slow spell of the machine falls on every statement alike
        for key, statement in statements.items():
            samples[key].append(once(statement))
    median = {key: statistics.median(values) for key, values in samples.items()}
    ours, openai, httpx_ = median["ours"], median["openai"], median["httpx"]
    ours_first, openai_first, httpx_first = median["ours_first"], median["openai_first"], median["httpx_first"]
    name = "import, fresh process"
    first = "import + construct the client"
    return [
        Row(name, ours, "from openai import OpenAI", openai, ours / openai, "<= 0.3x", ours <= 0.3 * openai),
        Row(
            name,
            ours,
            "import httpx",
            httpx_,
            ours / httpx_,
            "<= httpx + 30 ms",
            ours <= httpx_ + 0.030,
            notes={"ours_minus_httpx_ms": round((ours - httpx_) * 1000, 1)},
        ),
        Row(
            first,
            ours_first,
            "import httpx; httpx.Client()",
            httpx_first,
            ours_first / httpx_first,
            "<= httpx + 20 ms",
            ours_first <= httpx_first + 0.020,
            notes={"ours_minus_httpx_ms": round((ours_first - httpx_first) * 1000, 1)},
        ),
        Row(
            first,
            ours_first,
            "openai, the same",
            openai_first,
            ours_first / openai_first,
            "(reported, no target)",
            None,
        ),
        Row(
            "import + client + first retrieve (local server)",
            median["ours_retrieve"],
            "openai, the same",
            median["openai_retrieve"],
            median["ours_retrieve"] / median["openai_retrieve"],
            "(reported, no target)",
            None,
        ),
    ]


def case_retrieve(count: int, rounds: int) -> list[Row]:
    import openai

    with process(SERVER, json.dumps(BATCH), "0") as started:
        port = int(started.split()[0])
        base = f"http://127.0.0.1:{port}/v1"
        raw = httpx.Client()
        ours = sf.SiliconFlow(api_key="k", base_url=base)
        theirs = openai.OpenAI(api_key="k", base_url=base)

        # Timed in blocks of 200 calls, the three in turn, so that a change of load on a shared machine falls on
        # all three alike (whole runs of 2000 in turn swung the ratio from 0.8 to 1.5 on the same code).
        block = min(count, 200)

        def run_raw() -> None:
            for _ in range(block):
                json.loads(raw.get(f"{base}/batches/batch_rdyqgrcgjg", headers={"Authorization": "Bearer k"}).content)

        def run_ours() -> None:
            for _ in range(block):
                ours.batches.retrieve("batch_rdyqgrcgjg")

        def run_openai() -> None:
            for _ in range(block):
                theirs.batches.retrieve("batch_rdyqgrcgjg")

        medians = interleaved_medians((run_raw, run_ours, run_openai), rounds * count // block)
        t_raw, t_ours, t_openai = (median * count / block for median in medians)
    name = f"{count} sequential retrieves, keep-alive"
    return [
        Row(name, t_ours, "raw httpx get + json.loads", t_raw, t_ours / t_raw, "<= 1.02x", t_ours <= 1.02 * t_raw),
        Row(name, t_ours, "openai batches.retrieve", t_openai, t_ours / t_openai, "<= 0.7x", t_ours <= 0.7 * t_openai),
    ]


def case_parse_page(rounds: int) -> list[Row]:
    from openai._models import construct_type
    from openai.pagination import SyncCursorPage
    from openai.types import Batch as OpenAIBatch

    page = {
        "object": "list",
        "data": [{**BATCH, "id": f"batch_{i}"} for i in range(100)],
        "first_id": "batch_0",
        "last_id": "batch_99",
        "has_more": True,
    }
    body = json.dumps(page).encode()
    response = httpx.Response(200, content=body, request=httpx.Request("GET", "https://api.test/v1/batches"))
    page_type = SyncCursorPage[OpenAIBatch]

    def ours() -> None:
        for _ in range(50):
            parse_batch_page(response)

    def loads() -> None:
        for _ in range(50):
            json.loads(body)

    def theirs() -> None:  # the SDK's default (non-strict) parse path: construct_type over the page model
        for _ in range(50):
            construct_type(type_=page_type, value=json.loads(body))

    t_ours, t_loads, t_openai = interleaved_medians((ours, loads, theirs), rounds)
    name = "parse a 100-item page (x50)"
    return [
        Row(name, t_ours, "json.loads alone", t_loads, t_ours / t_loads, "<= 2.0x", t_ours <= 2.0 * t_loads),
        Row(name, t_ours, "openai construct_type", t_openai, t_ours / t_openai, "<= 0.5x", t_ours <= 0.5 * t_openai),
    ]


def case_paginate(total: int) -> list[Row]:
    with process(EMULATOR, str(total)) as url:
        client = sf.SiliconFlow(api_key="sk-emulator", base_url=url)
        one_page = client.batches.list(limit=100)
        tracemalloc.start()
        first = next(iter(one_page.iter_pages()))
        _, page_peak = tracemalloc.get_traced_memory()
        del first
        tracemalloc.reset_peak()
        start = time.perf_counter()
        tenth = sum(1 for _ in zip(range(total // 10), client.batches.list(limit=100), strict=False))
        t_tenth = time.perf_counter() - start
        tracemalloc.reset_peak()
        start = time.perf_counter()
        count = sum(1 for _ in client.batches.list(limit=100))
        t_all = time.perf_counter() - start
        _, all_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert count == total, count
    assert tenth == total // 10, tenth
    linear = t_all / max(t_tenth, 1e-9)
    return [
        Row(
            f"iterate {total} batches, {total // 100} pages",
            all_peak / 1e6,
            "peak of one page (MB)",
            page_peak / 1e6,
            all_peak / page_peak,
            "peak <= 3 pages",
            all_peak <= 3 * page_peak,
            unit="MB",
        ),
        Row(
            f"iterate {total} batches, {total // 100} pages",
            t_all,
            f"time for {total // 10} batches",
            t_tenth,
            linear,
            "time linear (~10x)",
            7 <= linear <= 13,
        ),
    ]


STREAM = r"""
import json, resource, sys, time, httpx
from siliconflow_batch import SiliconFlow, Batch
port, mode = sys.argv[1], sys.argv[2]
base = f"http://127.0.0.1:{port}/v1"
# Each side's client is made, and its modules loaded, before the clock starts: the row measures the stream.
if mode == "raw":
    client = httpx.Client()
else:
    ours = SiliconFlow(api_key="k", base_url=base)
    batches = ours.batches
    done = Batch.from_dict({"id": "b", "object": "batch", "endpoint": "/v1/chat/completions", "input_file_id": "f",
                            "completion_window": "24h", "status": "completed", "created_at": 1,
                            "output_file_id": "big"})
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
start = time.perf_counter()
if mode == "raw":
    with client.stream("GET", f"{base}/files/big/content") as response:
        count = sum(1 for line in response.iter_lines() if json.loads(line) is not None)
else:
    count = sum(1 for _ in batches.results(done))
elapsed = time.perf_counter() - start
growth = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) / 1024
print(json.dumps({"seconds": elapsed, "lines": count, "rss_growth_mb": growth}))
"""


def case_stream(megabytes: float, rounds: int) -> list[Row]:
    with process(SERVER, json.dumps(BATCH), str(megabytes)) as started:
        port, lines = started.split()

        def once(mode: str) -> dict[str, float]:
            command = [sys.executable, "-c", STREAM, port, mode]
            done = subprocess.run(command, capture_output=True, text=True, check=True)
            run: dict[str, float] = json.loads(done.stdout)
            assert run["lines"] == int(lines), run
            return run

        # Interleaved (raw, ours, raw, ours, ...), so that a change in the machine's load falls on both alike.
        runs: dict[str, list[dict[str, float]]] = {"raw": [], "ours": []}
        for _ in range(rounds):
            for mode, kept in runs.items():
                kept.append(once(mode))
        raw, ours = (
            {
                "seconds": statistics.median(r["seconds"] for r in kept),
                "rss_growth_mb": max(r["rss_growth_mb"] for r in kept),
            }
            for kept in runs.values()
        )
    throughput = raw["seconds"] / ours["seconds"]
    name = f"stream + parse a {megabytes:g} MB results file"
    return [
        Row(
            name,
            ours["seconds"],
            "raw httpx iter_lines + json.loads",
            raw["seconds"],
            throughput,
            ">= 0.9x raw throughput",
            throughput >= 0.9,
            notes={"lines": int(lines)},
        ),
        Row(
            name,
            ours["rss_growth_mb"],
            "peak RSS growth (MB)",
            64.0,
            ours["rss_growth_mb"] / 64.0,
            "< 64 MB",
            ours["rss_growth_mb"] < 64.0,
            unit="MB",
        ),
    ]


def case_validate(lines: int, megabytes: float, rounds: int) -> list[Row]:
    padding = "x" * max(0, int(megabytes * 1024 * 1024 / lines) - 200)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "requests.jsonl"
        with path.open("w") as handle:
            for i in range(lines):
                handle.write(
                    json.dumps(
                        {
                            "custom_id": f"r{i}",
                            "method": "POST",
                            "url": "/v1/chat/completions",
                            "body": {"model": "Qwen/QwQ-32B", "messages": [{"role": "user", "content": padding}]},
                        }
                    )
                    + "\n"
                )
        size = path.stat().st_size

        def ours() -> None:
            assert sf.validate_requests(path).ok

        def loads() -> None:  # read through the same 1 MiB buffer as validation: the row measures the checks
            with path.open("rb", buffering=1 << 20) as handle:
                for raw in handle:
                    json.loads(raw)

        t_ours, t_loads = interleaved_medians((ours, loads), rounds)
    name = f"validate {lines} lines, {size / 1e6:.0f} MB"
    ratio = t_ours / t_loads
    return [Row(name, t_ours, "json.loads of every line", t_loads, ratio, "<= 1.1x", ratio <= 1.1)]


def case_wait_many(batches: int, bound: int) -> list[Row]:
    polls: dict[str, int] = {}
    in_flight = peak = 0

    async def handler(request: httpx.Request) -> httpx.Response:
        nonlocal in_flight, peak
        in_flight += 1
        peak = max(peak, in_flight)
        await asyncio.sleep(0.001)  # a server that takes a moment, so concurrency can show
        in_flight -= 1
        batch_id = request.url.path.rsplit("/", 1)[-1]
        polls[batch_id] = polls.get(batch_id, 0) + 1
        status = "completed" if polls[batch_id] >= 5 else "in_progress"
        return httpx.Response(200, json={**BATCH, "id": batch_id, "status": status})

    async def run() -> float:
        http = httpx.AsyncClient(transport=httpx.MockTransport(handler))
        async with sf.AsyncSiliconFlow(api_key="k", base_url="https://api.test/v1", http_client=http) as client:
            start = time.perf_counter()
            await client.batches.wait_many([f"b{i}" for i in range(batches)], poll_interval=0.05, max_concurrency=bound)
            return time.perf_counter() - start

    elapsed = asyncio.run(run())
    requests = sum(polls.values())
    ideal = 5 * batches
    return [
        Row(
            f"async wait_many, {batches} batches, 50 ms polls",
            requests,
            "ideal request count",
            ideal,
            requests / ideal,
            "<= 1.1x ideal",
            requests <= 1.1 * ideal,
            unit="req",
            notes={"seconds": round(elapsed, 2)},
        ),
        Row(
            f"async wait_many, {batches} batches, 50 ms polls",
            peak,
            "concurrency bound",
            bound,
            peak / bound,
            "never above the bound",
            peak <= bound,
            unit="req",
        ),
    ]


JOB_EMULATOR = r"""
import sys
from siliconflow_batch.testing import Emulator
server = Emulator(stage_seconds=float(sys.argv[1])).serve()
print(server.url, flush=True)
sys.stdin.read()
"""

JOB = r"""
import json, resource, shutil, sys, tempfile, threading, time
from pathlib import Path
from siliconflow_batch import SiliconFlow
url, total, shard, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
model = "deepseek-ai/DeepSeek-V3"
def request(i):
    return {"custom_id": f"request-{i:07d}", "body": {"model": model, "max_tokens": 256,
            "messages": [{"role": "system", "content": "Answer in one sentence."},
                         {"role": "user", "content": f"What is {i} squared? Say it plainly."}]}}
with tempfile.TemporaryDirectory() as scratch:
    work = Path(scratch)
    source = work / "in.jsonl"
    with source.open("w") as out:
        for i in range(total):
            out.write(json.dumps(request(i)) + "\n")
    client = SiliconFlow(api_key="sk-emulator", base_url=url)
    # A small job first: the modules a first job loads (once per process) are not the job's work per request.
    warm = work / "warm.jsonl"
    warm.write_text("".join(json.dumps(request(i)) + "\n" for i in range(10)))
    client.jobs.run(warm, job_dir=work / "warm", poll_interval=0.05, max_poll_interval=0.2).close()
    inputs = source.read_bytes().splitlines()
    # Rounds of (the job, its merged output, the baselines), interleaved, each side's least kept: this machine's
    # speed drifts by half within a minute (the JSON baseline alone measured 11 and 18 us a request), and only
    # a slowdown is noise, so the least of each is the figure, and interleaving lets a drift fall on both sides.
    cpu_job = t_write = t_dumps = cpu_json = float("inf")
    for round in range(rounds):
        if round == 0:
            # The live RSS is sampled by the parent, from /proc, between these two lines, around the first job
            # and its merged output (not the baselines, which hold their lines): a sampling thread in this
            # process would take the GIL from the job every few ms (measured: 1.6 to 3 us more CPU a request).
            with open("/proc/self/statm") as statm:
                print("started", int(statm.read().split()[1]) * resource.getpagesize(), flush=True)
        cpu = time.process_time()
        job = client.jobs.run(source, job_dir=work / f"job{round}", max_shard_lines=shard, poll_interval=0.05,
                              max_poll_interval=0.2)
        status = job.status()
        cpu_job = min(cpu_job, time.process_time() - cpu)
        start = time.perf_counter()
        written = job.write_results(work / "merged.jsonl")
        t_write = min(t_write, time.perf_counter() - start)
        job.close()
        shutil.rmtree(work / f"job{round}")  # a round's job directory is ~100 MB: one on disk at a time
        if round == 0:
            print("ended", flush=True)
        # Baselines: json.dumps of the same result lines (held in memory), and the irreducible JSON work per
        # request (parse its input line, parse its result line, write its merged line).
        merged = [json.loads(line) for line in (work / "merged.jsonl").read_text().splitlines()]
        start = time.perf_counter()
        with (work / "plain.jsonl").open("w") as out:
            for line in merged:
                out.write(json.dumps(line, ensure_ascii=False) + "\n")
        t_dumps = min(t_dumps, time.perf_counter() - start)
        cpu = time.process_time()
        for raw, line in zip(inputs, merged):
            json.loads(raw); json.loads(json.dumps(line))
        cpu_json = min(cpu_json, time.process_time() - cpu)
        del merged
    print(json.dumps({"done": status.done, "total": status.total, "written": written, "cpu": cpu_job,
                      "cpu_json": cpu_json, "write": t_write, "dumps": t_dumps}))
"""


def _run_job(url: str, total: int, shard: int, rounds: int) -> dict[str, Any]:
    """Run the JOB script; its figures, with the peak growth of its live RSS between its two marker lines."""
    with tempfile.TemporaryFile("w+") as errors:
        command = [sys.executable, "-c", JOB, url, str(total), str(shard), str(rounds)]
        child = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=errors, text=True)
        assert child.stdout is not None
        statm, page = Path(f"/proc/{child.pid}/statm"), os.sysconf("SC_PAGE_SIZE")
        before, peak, stop = 0, [0], threading.Event()

        def sample() -> None:  # from this process: the job's never waits for it
            while not stop.wait(0.005):
                with contextlib.suppress(OSError, IndexError, ValueError):
                    peak[0] = max(peak[0], int(statm.read_text().split()[1]) * page)

        sampler = threading.Thread(target=sample, daemon=True)
        lines = []
        for line in child.stdout:
            if line.startswith("started "):
                before = peak[0] = int(line.split()[1])
                sampler.start()
            elif line.startswith("ended"):
                stop.set()
                sampler.join()
            else:
                lines.append(line)
        stop.set()
        if child.wait() != 0:
            errors.seek(0)
            raise RuntimeError(f"the job bench failed: {errors.read()[-2000:]}")
    figures: dict[str, Any] = json.loads(lines[-1])
    figures["rss_growth_mb"] = (peak[0] - before) / 1024**2
    assert figures["done"], figures
    assert figures["written"] == total, figures
    return figures


def case_job(total: int, shard: int, rounds: int) -> list[Row]:
    """A job of ``total`` requests in shards of ``shard``, against the emulator: the least of ``rounds`` runs."""
    with process(JOB_EMULATOR, "0.2") as url:
        small = _run_job(url, total // 10, shard, 1)
        big = _run_job(url, total, shard, rounds)
    per_request = big["cpu"] / total
    growth_holds = big["rss_growth_mb"] < 100 and big["rss_growth_mb"] <= 2 * small["rss_growth_mb"] + 10
    shards = math.ceil(total / shard)
    return [
        Row(
            f"job of {total} requests ({shards} shards): CPU",
            per_request * 1e6,
            "JSON work per request (us)",
            big["cpu_json"] / total * 1e6,
            big["cpu"] / max(big["cpu_json"], 1e-9),
            "<= 1.5x",
            big["cpu"] <= 1.5 * big["cpu_json"],
            unit="us",
        ),
        Row(
            f"job of {total} requests: peak RSS growth",
            big["rss_growth_mb"],
            f"the same for {total // 10} requests",
            small["rss_growth_mb"],
            big["rss_growth_mb"] / max(small["rss_growth_mb"], 1.0),  # under 1 MB is noise
            "< 100 MB, not ~10x",
            growth_holds,
            unit="MB",
        ),
        Row(
            f"job of {total}: write the merged output",
            big["write"],
            "json.dumps of the same lines",
            big["dumps"],
            big["write"] / max(big["dumps"], 1e-9),
            "<= 1.5x",
            big["write"] <= 1.5 * big["dumps"],
        ),
    ]


LAG = r"""
import asyncio, json, sys, tempfile, time
from pathlib import Path
from siliconflow_batch import AsyncSiliconFlow
url, total = sys.argv[1], int(sys.argv[2])
def request(i):
    return {"custom_id": f"r{i}", "body": {"model": "deepseek-ai/DeepSeek-V3",
            "messages": [{"role": "user", "content": f"What is {i} squared?"}]}}
async def main():
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "in.jsonl"
        source.write_text("".join(json.dumps(request(i)) + "\n" for i in range(total)))
        worst, running = [0.0], [True]
        async def ticker():  # what anything else on the loop sees: how late a 5 ms sleep wakes
            while running[0]:
                start = time.perf_counter()
                await asyncio.sleep(0.005)
                worst[0] = max(worst[0], time.perf_counter() - start - 0.005)
        async with AsyncSiliconFlow(api_key="sk-emulator", base_url=url) as client:
            # A small job first: the modules a first job loads (once per process) are not the job's work.
            warm = Path(scratch) / "warm.jsonl"
            warm.write_text("".join(json.dumps(request(i)) + "\n" for i in range(10)))
            (await client.jobs.submit(warm, job_dir=Path(scratch) / "warm")).close()
            tick = asyncio.create_task(ticker())
            await asyncio.sleep(0.05)
            job = await client.jobs.submit(source, job_dir=Path(scratch) / "job")
            await job.status()
            job.close()
            running[0] = False
            await tick
        print(json.dumps({"worst_lag": worst[0]}))
asyncio.run(main())
"""


def case_loop_lag(total: int) -> list[Row]:
    """The worst lag of an event loop while the async client submits a job of ``total`` requests."""
    with process(JOB_EMULATOR, "60") as url:
        done = subprocess.run([sys.executable, "-c", LAG, url, str(total)], capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"the loop-lag job failed: {done.stderr[-2000:]}")
    lag = float(json.loads(done.stdout.strip().splitlines()[-1])["worst_lag"])
    return [
        Row(
            f"async submit of {total} requests: worst loop lag",
            lag,
            "20 ms",
            0.020,
            lag / 0.020,
            "<= 20 ms",
            lag <= 0.020,
        )
    ]


SLOW_EMULATOR = r"""
import sys
from siliconflow_batch.testing import Emulator, Faults
faults = Faults(rate=1.0, kinds=("slow",))  # every answer 0.2 s late: a link with that much latency
faults.slow_seconds = 0.2
server = Emulator(stage_seconds=3600, faults=faults).serve()
print(server.url, flush=True)
sys.stdin.read()
"""

SUBMIT = r"""
import asyncio, json, sys, tempfile, time
from pathlib import Path
from siliconflow_batch import AsyncSiliconFlow
url, shards, concurrency = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def request(i):
    return {"custom_id": f"r{i}", "body": {"model": "deepseek-ai/DeepSeek-V3",
            "messages": [{"role": "user", "content": f"q{i}"}]}}
async def main():
    with tempfile.TemporaryDirectory() as scratch:
        source = Path(scratch) / "in.jsonl"
        source.write_text("".join(json.dumps(request(i)) + "\n" for i in range(shards * 10)))
        async with AsyncSiliconFlow(api_key="sk-emulator", base_url=url, max_retries=0) as client:
            start = time.perf_counter()
            job = await client.jobs.submit(source, job_dir=Path(scratch) / "job", max_shard_lines=10,
                                           max_concurrency=concurrency)
            took = time.perf_counter() - start
            job.close()
        print(json.dumps({"seconds": took}))
asyncio.run(main())
"""


def case_submit_concurrency(shards: int) -> list[Row]:
    """Submitting ``shards`` shards over a link with 0.2 s per request: concurrent against one at a time."""

    def submit(url: str, concurrency: int) -> float:
        done = subprocess.run(
            [sys.executable, "-c", SUBMIT, url, str(shards), str(concurrency)], capture_output=True, text=True
        )
        if done.returncode != 0:
            raise RuntimeError(f"the submit failed: {done.stderr[-2000:]}")
        return float(json.loads(done.stdout.strip().splitlines()[-1])["seconds"])

    with process(SLOW_EMULATOR) as url:
        serial = submit(url, 1)
    with process(SLOW_EMULATOR) as url:  # a fresh emulator: the same number of files and batches to list
        concurrent = submit(url, 4)
    return [
        Row(
            f"async submit of {shards} shards, 0.2 s per request, 4 at once",
            concurrent,
            "the same, one at a time",
            serial,
            concurrent / serial,
            "<= 0.35x",
            concurrent <= 0.35 * serial,
        )
    ]


def case_job_polls(active: int) -> list[Row]:
    """Poll requests per round with ``active`` batches running, against a server that pages."""
    from siliconflow_batch.testing import Emulator, VirtualClock

    with tempfile.TemporaryDirectory() as scratch, VirtualClock() as clock:
        emulator = Emulator(stage_seconds=10, clock=clock.time)
        client = sf.SiliconFlow(
            api_key=emulator.api_key,
            base_url="http://emulator/v1",
            http_client=httpx.Client(transport=emulator.transport()),
        )
        requests = (
            {
                "custom_id": f"r{i}",
                "body": {"model": "deepseek-ai/DeepSeek-V3", "messages": [{"role": "user", "content": "q"}]},
            }
            for i in range(active)
        )
        job = client.jobs.submit(requests, job_dir=Path(scratch) / "job", max_shard_lines=1)
        emulator.requests.clear()
        sleeps = len(clock.sleeps)
        job.wait(poll_interval=5)
        rounds = len(clock.sleeps) - sleeps + 1
        polls = sum(n for route, n in emulator.requests.items() if route.startswith("GET /batches"))
        job.close()
    bound = math.ceil(active / 100) + 1
    per_round = polls / rounds
    return [
        Row(
            f"job poll requests per round, {active} active",
            per_round,
            "ceil(n/100) + 1",
            bound,
            per_round / bound,
            "<= 1x",
            per_round <= bound,
            unit="requests",
        )
    ]


ROWS_BENCH = r"""
import json, resource, sys, tempfile, threading, time
from pathlib import Path
import pyarrow as pa, pyarrow.parquet as pq
from siliconflow_batch import BatchResult
from siliconflow_batch.requests import from_rows
from siliconflow_batch.tables import write_parquet
case, total, rounds = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
model = "deepseek-ai/DeepSeek-V3"
def rss():
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * resource.getpagesize()
def measured(function):
    # The peak of the live RSS while function runs, over the RSS just before it (ru_maxrss is a high-water
    # mark of the whole process, which the file's making would set).
    before, peak, running = rss(), [0], [True]
    def sample():
        while running[0]:
            peak[0] = max(peak[0], rss())
            time.sleep(0.005)
    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    start = time.perf_counter()
    value = function()
    elapsed = time.perf_counter() - start
    running[0] = False
    sampler.join()
    return elapsed, (max(peak[0], rss()) - before) / 1024**2, value
with tempfile.TemporaryDirectory() as scratch:
    work = Path(scratch)
    if case == "build":
        source = work / "rows.parquet"
        review = "the product arrived on time and works as described, five stars."
        texts = pa.array([f"Review {i}: {review}" for i in range(total)])
        pq.write_table(pa.table({"id": pa.array([f"row-{i:07d}" for i in range(total)]), "text": texts,
                                 "stars": pa.array([i % 5 for i in range(total)])}), source)
        del texts
        def ours():
            dumps = json.dumps
            return sum(len(dumps(line)) for line in from_rows(source, prompt="Summarize: {text}", model=model,
                                                              id_column="id", max_tokens=256))
        def baseline():  # pyarrow's own read of the file, then the same lines by hand and json.dumps
            table = pq.read_table(source)
            dumps, size = json.dumps, 0
            for custom_id, text in zip(table.column("id").to_pylist(), table.column("text").to_pylist()):
                messages = [{"role": "user", "content": f"Summarize: {text}"}]
                size += len(dumps({"custom_id": custom_id, "method": "POST", "url": "/v1/chat/completions",
                                   "body": {"model": model, "messages": messages, "max_tokens": 256}}))
            return size
    else:
        # Results as a job's ledger keeps them: each request's output line, its bytes, with its own text (made of
        # 65,536 fragments of model-like prose, five a reply, so that the table compresses as real replies do,
        # not as one text repeated); both sides write the same table, with the same compression.
        import random
        from siliconflow_batch._results import parse_result_line
        from siliconflow_batch.tables import ResultLines
        rng = random.Random(7)
        words = ("the a of and to in is that it for on with as was by this be are from at or an which not "
                 "model answer result review product quality service customer delivery price value time "
                 "works well poor good great bad late early fine broken easy hard fast slow").split()
        fragments = [" ".join(rng.choice(words) for _ in range(rng.randint(6, 14))) for _ in range(65536)]
        dumps = json.dumps
        lines = []
        for i in range(total):
            text = ". ".join(fragments[(i * p) % 65536] for p in (1, 7919, 104729, 1299709, 15485863)) + f" ({i})."
            lines.append(
                b'{"id":"batch_req_%d","custom_id":"request-%07d","response":{"status_code":200,"request_id":"r%d",'
                b'"body":{"id":"c%d","object":"chat.completion","created":1733000000,"model":"%s","choices":[{'
                b'"index":0,"message":{"role":"assistant","content":%s},"finish_reason":"stop"}],"usage":{'
                b'"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}},"error":null}'
                % (i, i, i, i, model.encode(), dumps(text).encode(), 20 + i % 50, 60 + i % 200, 80 + i % 50 + i % 200)
            )
        out = work / "results.parquet"
        def items():
            for i, line in enumerate(lines):
                yield f"request-{i:07d}", 1, line, line
        def results():  # the same results as BatchResults (the path of write_parquet(job.results()))
            for line in lines:
                yield parse_result_line(line, 2, "output")
        def ours():  # what job.write_table does: the lines, read in bulk
            return write_parquet(ResultLines(items(), lambda line: parse_result_line(line, 2, "output")), out)
        def baseline():  # pyarrow writing the same table, already in memory, with the same compression
            pq.write_table(table, work / "plain.parquet", compression="zstd")
        def floor():  # the least any JSON lines to Parquet does: pyarrow's reader, two batches ahead, and the writer
            from concurrent.futures import ThreadPoolExecutor
            from siliconflow_batch.tables import _line_schema
            import pyarrow.json as pj
            line_schema = _line_schema(pa)
            def read(chunk):
                data = b"\n".join(chunk)
                read = pj.read_json(pa.py_buffer(data), read_options=pj.ReadOptions(block_size=len(data) + 1,
                                    use_threads=False), parse_options=pj.ParseOptions(explicit_schema=line_schema,
                                    unexpected_field_behavior="ignore"))
                body = read.column("response").chunk(0).flatten()[1]
                choices, usage = body.flatten()
                message, finish = choices.flatten().flatten()
                return [*message.flatten()[:2], finish, *usage.flatten()]
            text, count = pa.string(), pa.int64()
            schema = pa.schema([("custom_id", text), ("content", text), ("reasoning_content", text),
                                ("finish_reason", text), ("prompt_tokens", count), ("completion_tokens", count),
                                ("total_tokens", count)])
            size = 16384
            out_floor = work / "floor.parquet"
            with ThreadPoolExecutor(2) as pool, pq.ParquetWriter(out_floor, schema, compression="zstd") as w:
                pending = [(k, pool.submit(read, lines[k:k + size])) for k in range(0, min(2 * size, total), size)]
                while pending:
                    k, future = pending.pop(0)
                    if k + 2 * size < total:
                        pending.append((k + 2 * size, pool.submit(read, lines[k + 2 * size:k + 3 * size])))
                    ids = pa.array([f"request-{i:07d}" for i in range(k, min(k + size, total))])
                    w.write_batch(pa.RecordBatch.from_arrays([ids, *future.result()], schema=schema))
    made = 0.0
    if case == "write":  # the BatchResult path, for comparison: parsing the lines, then the columns from them
        start = time.perf_counter()
        write_parquet(results(), work / "slow.parquet")
        made = time.perf_counter() - start
        slow = pq.read_table(work / "slow.parquet")
    # Rounds of (ours, the baseline, the floor), interleaved, each side's least kept: only a slowdown is noise,
    # and this machine's speed drifts within a minute; ours's RSS growth is the most of its rounds.
    t_ours = t_base = t_floor = float("inf")
    growth = 0.0
    for round in range(rounds):
        spent, grew, value = measured(ours)
        t_ours, growth = min(t_ours, spent), max(growth, grew)
        if case == "write" and round == 0:
            table = pq.read_table(out)
            assert value == total == table.num_rows and table.equals(slow)
            del slow
        spent, _, expected = measured(baseline)
        t_base = min(t_base, spent)
        if case == "build":
            assert value == expected, (value, expected)
        t_floor = min(t_floor, measured(floor)[0]) if case == "write" else 0.0
    print(json.dumps({"ours": t_ours, "baseline": t_base, "rss_growth_mb": growth, "made": made, "floor": t_floor}))
"""


def case_rows(total: int, rounds: int) -> list[Row]:
    """1,000,000 requests from a Parquet file, and 1,000,000 results to one, against pyarrow: least of ``rounds``."""

    def measure(case: str) -> dict[str, float]:
        command = [sys.executable, "-c", ROWS_BENCH, case, str(total), str(rounds)]
        done = subprocess.run(command, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"the {case} case failed: {done.stderr[-2000:]}")
        figures: dict[str, float] = json.loads(done.stdout.strip().splitlines()[-1])
        return figures

    build, write = measure("build"), measure("write")
    rows = []
    for figures, name, baseline in (
        (build, f"build {total} requests from Parquet", "pq.read_table + json.dumps by hand"),
        (write, f"write {total} results to Parquet", "pq.write_table, same table, zstd"),
    ):
        ratio = figures["ours"] / figures["baseline"]
        notes = {"batch_result_path_s": round(figures["made"], 2)} if figures["made"] else {}
        rows.append(Row(name, figures["ours"], baseline, figures["baseline"], ratio, "<= 2x", ratio <= 2, notes=notes))
        growth = figures["rss_growth_mb"]
        rows.append(
            Row(f"{name}: peak RSS growth", growth, "200 MB", 200.0, growth / 200, "< 200 MB", growth < 200, unit="MB")
        )
    # What the machine allows: the same lines through pyarrow's JSON reader and writer alone, as ours runs them
    # (two batches read ahead in threads), without a check; ours can come no nearer the baseline than this.
    rows.append(
        Row(
            f"write {total} results: pyarrow alone",
            write["floor"],
            "pq.write_table, same table, zstd",
            write["baseline"],
            write["floor"] / write["baseline"],
            "(reported, no target)",
            None,
        )
    )
    return rows


# --- report ---------------------------------------------------------------------------------------------------


def _fmt(value: float, unit: str) -> str:
    if unit == "s":
        return f"{value * 1000:.1f} ms" if value < 1 else f"{value:.2f} s"
    return f"{value:.1f} {unit}" if unit in ("MB", "us", "requests") else f"{value:.0f}"


def report(rows: list[Row], quick: bool) -> str:
    header = f"{'case':<44} {'ours':>10}  {'vs':<36} {'baseline':>10}  {'ratio':>6}  {'target':<22} {'holds'}"
    lines = [header, "-" * len(header)]
    for row in rows:
        holds = "-" if quick or row.holds is None else ("yes" if row.holds else "NO")
        lines.append(
            f"{row.case:<44} {_fmt(row.ours, row.unit):>10}  {row.baseline:<36} "
            f"{_fmt(row.value, row.unit):>10}  {row.ratio:>6.2f}  {row.target:<22} {holds}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/bench", description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="tiny sizes, no targets judged (a smoke test)")
    parser.add_argument("--json", metavar="FILE", help="also write the figures to FILE")
    parser.add_argument("--only", metavar="CASES", help="run only these cases, comma-separated (import,parse,...)")
    args = parser.parse_args(argv)
    quick = args.quick
    started = time.perf_counter()
    rows: list[Row] = []
    steps: list[tuple[str, Callable[[], list[Row]]]] = [
        ("import", lambda: case_import(3 if quick else 7)),
        ("retrieve", lambda: case_retrieve(50 if quick else 2000, 1 if quick else 3)),
        ("parse", lambda: case_parse_page(1 if quick else 15)),
        ("paginate", lambda: case_paginate(2_000 if quick else 100_000)),
        ("stream", lambda: case_stream(2 if quick else 200, 1 if quick else 3)),
        ("validate", lambda: case_validate(500 if quick else 5000, 2 if quick else 20, 1 if quick else 9)),
        ("wait", lambda: case_wait_many(50 if quick else 1000, 10 if quick else 50)),
        ("job", lambda: case_job(5_000 if quick else 100_000, 500 if quick else 5000, 1 if quick else 3)),
        ("job polls", lambda: case_job_polls(30 if quick else 250)),
        ("loop lag", lambda: case_loop_lag(5_000 if quick else 100_000)),
        ("submit", lambda: case_submit_concurrency(8 if quick else 40)),
        ("rows", lambda: case_rows(20_000 if quick else 1_000_000, 1 if quick else 3)),
    ]
    if args.only:
        wanted = set(args.only.split(","))
        unknown = wanted - {name for name, _ in steps}
        if unknown:
            parser.error(f"unknown cases {sorted(unknown)}; known: {', '.join(name for name, _ in steps)}")
        steps = [(name, step) for name, step in steps if name in wanted]
    for name, step in steps:
        print(f"running {name} ...", file=sys.stderr, flush=True)
        rows.extend(step())
    print(report(rows, quick))
    print(
        f"\n{'quick run: targets not judged' if quick else ''}total {time.perf_counter() - started:.0f} s, "
        f"python {sys.version.split()[0]}, {os.cpu_count()} cores"
    )
    if args.json:
        Path(args.json).write_text(json.dumps([asdict(r) for r in rows], indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
