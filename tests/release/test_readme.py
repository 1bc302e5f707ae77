"""The README's Python examples are valid, and the emulator example runs as written."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from siliconflow_batch.testing import VirtualClock

from helpers import ROOT

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


EMULATOR_BLOCK = next(block for block in BLOCKS if "Emulator(" in block)


def test_readme_has_the_examples() -> None:
    assert len(BLOCKS) == 5  # five lines, jobs, per-call options, the emulator, the virtual clock
    assert any("with_options(" in block and "extra_body=" in block for block in BLOCKS)
    for example in BLOCKS[:2]:  # the client's and the job's
        code = [line for line in example.splitlines() if line.strip() and not line.startswith("from ")]
        assert len(code) <= 6  # five statements (ruff's Markdown formatting puts the loop body on its own line)


def test_every_example_compiles() -> None:
    for block in BLOCKS:
        compile(block, "README.md", "exec")


def test_emulator_example_runs() -> None:
    namespace: dict[str, object] = {}
    exec(compile(EMULATOR_BLOCK, "README.md", "exec"), namespace)
    assert namespace["client"].batches.list is not None  # type: ignore[attr-defined]


def test_virtual_clock_example_runs() -> None:
    (block,) = [b for b in BLOCKS if "VirtualClock()" in b]
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    assert type(namespace["clock"]).__name__ == "VirtualClock"
    assert type(namespace["emulator"]).__name__ == "Emulator"


def test_jobs_example_runs(
    tmp_path: Path, url: str, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    (block,) = [b for b in BLOCKS if "client.jobs.run(" in b]
    monkeypatch.setenv("SILICONFLOW_BASE_URL", url)
    monkeypatch.setenv("SILICONFLOW_API_KEY", "sk-emulator")
    monkeypatch.chdir(tmp_path)
    body = {"model": "deepseek-ai/DeepSeek-V3", "messages": [{"role": "user", "content": "hi"}]}
    Path("prompts.jsonl").write_text("".join(json.dumps({"custom_id": f"p{i}", "body": body}) + "\n" for i in range(3)))
    exec(compile(block, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    assert "p0 True 1 [emulated deepseek-ai/DeepSeek-V3] hi" in printed
    assert "job eval-42: 3/3 done (3 ok, 0 failed, 0 pending)" in printed
