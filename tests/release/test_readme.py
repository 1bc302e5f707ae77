"""The README's Python examples are valid, and the emulator example runs as written."""

from __future__ import annotations

import re

from helpers import ROOT

BLOCKS = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)


EMULATOR_BLOCK = next(block for block in BLOCKS if "Emulator(" in block)


def test_readme_has_the_examples() -> None:
    assert len(BLOCKS) == 4  # five lines, per-call options, the emulator, the virtual clock
    assert any("with_options(" in block and "extra_body=" in block for block in BLOCKS)
    code = [line for line in BLOCKS[0].splitlines() if line.strip() and not line.startswith("from ")]
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
