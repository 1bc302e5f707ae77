"""The README's demo: a 12,000-request job through ``siliconflow-batch run``, interrupted once and resumed.

The emulator runs in this process on a free loopback port, with the vendor's limits (so the job needs three
batches), one batch that expires midway and a share of lines that fail (429, 50505, 400). The CLI runs as a
separate process over a real socket, exactly as it would against the vendor: it is interrupted midway, as a
Ctrl-C or a redeploy would, and the same command then resumes the job and merges one result per request.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from decimal import Decimal
from pathlib import Path
from typing import Any

from siliconflow_batch.testing import Emulator

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".demo"
# A job is named after its directory: "squares" reads as a name in the summary ("job  squares", not "job  job").
JOB_DIR = WORK / "squares"
REQUESTS = 12_000
MODEL = "deepseek-ai/DeepSeek-V3"
LINE_FAILURES = {"rate_limit": 0.02, "overloaded": 0.01, "invalid": 0.004}
EXPIRES_AT = 0.6  # the first batch runs out of its window this far through
# What each injected line failure is, in the words of the result lines (status, code), and what a job does with it.
FAULTS = {
    "rate_limit": ("429 rate_limit_exceeded", "retried in a later batch (a job sends a request up to 3 times)"),
    "overloaded": ("503 50505 (overloaded)", "retried in a later batch (a job sends a request up to 3 times)"),
    "invalid": ("400 invalid_request", "not retried (the request itself is refused)"),
}


def faults_text() -> str:
    """What the emulator is told to do wrong, said before the run, so the output can be read without the script."""
    lines = ["faults injected on purpose, to show what a job does with them:"]
    lines.append(
        f"  - the first batch expires {EXPIRES_AT:.0%} through its window: the job resubmits what it did not finish"
    )
    for kind, share in LINE_FAILURES.items():
        answer, handling = FAULTS[kind]
        lines.append(f"  - {share:.1%} of request lines answer {answer}: {handling}")
    lines.append("  - and the run is interrupted midway, then resumed by the same command")
    return "\n".join(lines)


def failures_text(failed: list[dict[str, Any]]) -> str:
    """Why the failed requests failed, by answer: each one of the injected faults."""
    by_answer: Counter[tuple[Any, Any]] = Counter()
    tries: dict[tuple[Any, Any], int] = {}
    for result in failed:
        error = (result.get("response") or {}).get("body", {}).get("error") or result.get("error") or {}
        answer = (result.get("status_code"), error.get("code"))
        by_answer[answer] += 1
        tries[answer] = max(tries.get(answer, 0), result.get("attempts") or 1)
    parts = [
        f"{count} answered {status} {code}" + (f" on each of {tries[(status, code)]} attempts" if status != 400 else "")
        for (status, code), count in sorted(by_answer.items(), key=str)
    ]
    return ", ".join(parts) if parts else "none"


def cost_text(cost: str | float | None) -> str:
    """The cost as the command's summary gives it: yuan, to four places."""
    return "unknown (a model has no price)" if cost is None else f"{Decimal(str(cost)):.4f} yuan"


def write_input(path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for i in range(REQUESTS):
            body = {
                "model": MODEL,
                "messages": [
                    {"role": "system", "content": "Answer in one sentence."},
                    {"role": "user", "content": f"What is {i} squared?"},
                ],
                "max_tokens": 256,
            }
            handle.write(json.dumps({"custom_id": f"request-{i:05d}", "body": body}) + "\n")


def _interrupt_midway(process: subprocess.Popen[bytes], emulator: Emulator) -> None:
    """SIGINT the run once its batches exist and one has ended (the expired one), as a Ctrl-C would."""
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        batches = emulator.batches()
        if len(batches) >= 3 and any(b["status"] == "expired" for b in batches):
            break
        time.sleep(0.1)
    print("\n--- interrupting the run midway (as a Ctrl-C, a crash or a redeploy would) ---\n", flush=True)
    process.send_signal(signal.SIGINT)
    process.wait(timeout=60)


def main() -> int:
    started = time.monotonic()
    WORK.mkdir(exist_ok=True)
    job_dir, requests, results = JOB_DIR, WORK / "requests.jsonl", WORK / "results.jsonl"
    shutil.rmtree(job_dir, ignore_errors=True)
    results.unlink(missing_ok=True)
    write_input(requests)
    emulator = Emulator(stage_seconds=0.5, line_failures=LINE_FAILURES)
    emulator.faults.expire_next(fraction=EXPIRES_AT)
    with emulator.serve(port=0) as server:
        print(f"emulator: {server.url} (the vendor's limits: 5,000 requests a batch, so {REQUESTS:,} make three)")
        print(faults_text())
        env = dict(os.environ, SILICONFLOW_BASE_URL=server.url, SILICONFLOW_API_KEY=emulator.api_key)
        command = [
            sys.executable, "-m", "siliconflow_batch", "run", str(requests), "--job-dir", str(job_dir),
            "--output", str(results), "--poll-interval", "0.25", "--max-poll-interval", "1", "--metadata", "team=demo",
        ]  # fmt: skip
        shown = "$ siliconflow-batch " + " ".join(command[3:])
        print(shown, flush=True)
        _interrupt_midway(subprocess.Popen(command, env=env), emulator)
        print(shown + "   # the same command resumes the job", flush=True)
        code = subprocess.run(command, env=env, check=False).returncode
        status_run = subprocess.run(
            [sys.executable, "-m", "siliconflow_batch", "job", "status", str(job_dir), "--json"],
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        batches = emulator.batches()
    if code != 0:
        print(f"demo: siliconflow-batch exited {code}", file=sys.stderr)
        return code
    status = json.loads(status_run.stdout)
    lines = [json.loads(line) for line in results.read_text().splitlines()]
    failed = [r for r in lines if not r["ok"]]
    attempts = Counter(r["attempts"] for r in lines)
    expired = any(b["status"] == "expired" for b in batches)
    per_shard = Counter((b["metadata"]["sf_shard"], b["metadata"]["sf_attempt"]) for b in batches)
    print("\nsummary")
    print(f"  requests   {len(lines)}: {len(lines) - len(failed)} succeeded, {len(failed)} failed")
    print(f"  failed     {failures_text(failed)}")
    print(
        f"  batches    {len(batches)}: "
        + ", ".join(f"{n} {s}" for s, n in sorted(Counter(b["status"] for b in batches).items()))
        + (" (the injected expiry: its unfinished requests went into a new batch)" if expired else "")
    )
    print("  attempts   " + ", ".join(f"{count} requests took {n}" for n, count in sorted(attempts.items())))
    for result in [r for r in lines if r["ok"] and r["attempts"] > 1][:2] + failed[:2]:
        error = (result.get("response") or {}).get("body", {}).get("error") or result.get("error") or {}
        text = result["content"] if result["ok"] else f"FAILED: {error.get('message')}"
        print(f"  {result['custom_id']}  attempt {result['attempts']}: {text}")
    tokens = (
        sum(u["input_tokens"] for u in status["usage"].values()),
        sum(u["output_tokens"] for u in status["usage"].values()),
    )
    print(f"  tokens     {tokens[0]} in, {tokens[1]} out; cost at batch prices {cost_text(status['cost'])}")
    print(f"  results    {results} (one line per request, in input order)")
    print(f"  took       {time.monotonic() - started:.1f} s")
    in_order = [r["custom_id"] for r in lines] == [f"request-{i:05d}" for i in range(REQUESTS)]
    if not in_order or set(per_shard.values()) != {1} or len(per_shard) < 4 or attempts[1] == REQUESTS:
        print("demo: the job's results are not what the emulator should have produced", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
