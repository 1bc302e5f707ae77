"""The README's demo: a batch of a few hundred requests through ``siliconflow-batch submit --wait``.

The emulator runs in this process on a free loopback port; the CLI runs as a separate process, over a real
socket, exactly as it would against the vendor.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from siliconflow_batch.testing import Emulator

ROOT = Path(__file__).resolve().parent.parent
WORK = ROOT / ".demo"
REQUESTS = 300
OVERSIZED = {17, 123, 256}  # these ask for more tokens than the emulated service allows: they fail on purpose
MODEL = "deepseek-ai/DeepSeek-V3"


def write_input(path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for i in range(REQUESTS):
            body: dict[str, object] = {
                "model": MODEL,
                "messages": [
                    {"role": "system", "content": "Answer in one sentence."},
                    {"role": "user", "content": f"What is {i} squared?"},
                ],
                "max_tokens": 100_000 if i in OVERSIZED else 256,
            }
            line = {"custom_id": f"request-{i:04d}", "method": "POST", "url": "/v1/chat/completions", "body": body}
            handle.write(json.dumps(line) + "\n")


def main() -> int:
    started = time.monotonic()
    WORK.mkdir(exist_ok=True)
    requests = WORK / "requests.jsonl"
    output = WORK / "output"
    write_input(requests)
    emulator = Emulator(stage_seconds=1.0)
    with emulator.serve(port=0) as server:
        print(f"emulator: {server.url}")
        env = dict(os.environ, SILICONFLOW_BASE_URL=server.url, SILICONFLOW_API_KEY=emulator.api_key)
        command = [
            sys.executable,
            "-m",
            "siliconflow_batch",
            "submit",
            str(requests),
            "--wait",
            "--poll-interval",
            "0.5",
            "--output",
            str(output),
            "--metadata",
            "job=demo",
        ]
        print("$ siliconflow-batch " + " ".join(command[3:]))
        code = subprocess.run(command, env=env, check=False).returncode
    if code != 0:
        print(f"demo: siliconflow-batch exited {code}", file=sys.stderr)
        return code
    results = [json.loads(line) for line in (output / "results.jsonl").read_text().splitlines()]
    completed = [r for r in results if r["ok"]]
    failed = [r for r in results if not r["ok"]]
    print("\nsummary")
    print(f"  requests   {len(results)}: {len(completed)} completed, {len(failed)} failed")
    for result in completed[:3]:
        print(f"  {result['custom_id']}  {result['content']}")
    for result in failed[:3]:
        error = (result.get("response") or {}).get("body", {}).get("error") or result.get("error") or {}
        print(f"  {result['custom_id']}  FAILED: {error.get('message')}")
    print(f"  files      {output / 'output.jsonl'}, {output / 'errors.jsonl'}, {output / 'results.jsonl'}")
    print(f"  took       {time.monotonic() - started:.1f} s")
    ok = len(results) == REQUESTS and {r["custom_id"] for r in failed} == {f"request-{i:04d}" for i in OVERSIZED}
    if not ok:
        print("demo: the results are not what the emulator should have produced", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
