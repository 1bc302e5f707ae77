"""The README's Python examples are valid, and the emulator example runs as written."""

from __future__ import annotations

import ast
import importlib
import json
import re
from pathlib import Path
from typing import Any

import pytest

from siliconflow_batch import SiliconFlow
from siliconflow_batch.testing import VirtualClock

from helpers import ROOT

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


EMULATOR_BLOCK = next(block for block in BLOCKS if "Emulator(" in block)


def test_readme_has_the_examples() -> None:
    assert len(BLOCKS) == 7  # five lines, jobs, from a table, from Airflow, per-call options, the emulator, the clock
    assert any("with_options(" in block and "extra_body=" in block for block in BLOCKS)
    for example in BLOCKS[:2]:  # the client's and the job's
        code = [line for line in example.splitlines() if line.strip() and not line.startswith("from ")]
        assert len(code) <= 6  # five statements (ruff's Markdown formatting puts the loop body on its own line)


def _attribute_chains(tree: ast.AST, root: str) -> set[tuple[str, ...]]:
    """Every ``root.a.b...`` the code uses, as ("a", "b", ...)."""
    chains = set()
    for node in ast.walk(tree):
        names: list[str] = []
        while isinstance(node, ast.Attribute):
            names.insert(0, node.attr)
            node = node.value
        if isinstance(node, ast.Name) and node.id == root and names:
            chains.add(tuple(names))
    return chains


def test_every_example_compiles_and_names_what_exists() -> None:
    client = SiliconFlow(api_key="k", base_url="https://api.test/v1")
    used: set[tuple[str, ...]] = set()
    imported = 0
    for block in BLOCKS:
        compile(block, "README.md", "exec")  # a SyntaxError fails the test
        tree = ast.parse(block)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("siliconflow_batch"):
                module = importlib.import_module(node.module)
                for alias in node.names:  # a name of __all__ needs no import (siliconflow_batch.airflow's: Airflow)
                    exported = alias.name in getattr(module, "__all__", ())
                    assert exported or hasattr(module, alias.name), f"README imports {alias.name} from {node.module}"
                    imported += 1
        used |= _attribute_chains(tree, "client") | _attribute_chains(tree, "patient")
    for chain in used:
        value: object = client
        for name in chain:
            assert hasattr(value, name), f"README calls client.{'.'.join(chain)}"
            value = getattr(value, name)
    assert imported >= 5  # SiliconFlow, Emulator, Faults, VirtualClock...: the scan saw the imports
    assert ("jobs", "run") in used
    assert ("batches", "results") in used


def test_emulator_example_runs(tmp_path: Path) -> None:
    lines = EMULATOR_BLOCK.splitlines(keepends=True)
    cut = next(i for i, line in enumerate(lines) if line.startswith("# or a real HTTP server"))
    namespace: dict[str, Any] = {}
    exec(compile("".join(lines[:cut]), "README.md", "exec"), namespace)
    in_process = namespace["client"]  # the in-process client talks to the emulator, no socket
    body = {"model": "deepseek-ai/DeepSeek-V3", "messages": [{"role": "user", "content": "hi"}]}
    source = tmp_path / "in.jsonl"
    source.write_text(json.dumps({"custom_id": "c1", "body": body}) + "\n")
    batch = in_process.batches.create(input_file_id=in_process.files.upload(source).id)
    assert [b.id for b in in_process.batches.list()] == [batch.id]
    # The served variant, on the same emulator: the example's with block, listing while the server is up.
    served = "".join(lines[cut:]) + "    listed = [b.id for b in client.batches.list()]\n"
    exec(compile(served, "README.md", "exec"), namespace)
    assert namespace["server"].url.startswith("http://127.0.0.1:")
    assert namespace["listed"] == [batch.id]


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
