"""Sharding: for random inputs, shards respect both limits, keep one model each, and give back the input."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from siliconflow_batch._job_input import SHARD_DIR, ShardLimits, form_shards, spool
from siliconflow_batch._job_ledger import Ledger

MODELS = ["deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-R1", "Qwen/QwQ-32B"]


def _line(i: int, model: str, pad: int) -> bytes:
    request = {"custom_id": f"id-{i}", "body": {"model": model, "messages": [{"role": "user", "content": "x" * pad}]}}
    return json.dumps(request).encode() + b"\n"


def _shard(lines: list[bytes], limits: ShardLimits, replace_model: str | None) -> list[bytes]:
    """Spool ``lines`` and cut them into shards; the shards' contents, in shard order."""
    with tempfile.TemporaryDirectory() as scratch:
        job_dir = Path(scratch)
        source = job_dir / "in.jsonl"
        source.write_bytes(b"".join(lines))
        ledger = Ledger(job_dir / "ledger.sqlite")
        with ledger.transaction() as db:
            _, problems = spool(source, job_dir, db)
            assert problems == []
            problems = form_shards(ledger, db, job_dir, "job", limits, replace_model, parents=(0,), first=1, plan="p")
            assert problems == []
        ledger.close()
        return [path.read_bytes() for path in sorted((job_dir / SHARD_DIR).iterdir())]


@settings(max_examples=60, deadline=None)
@given(
    sizes=st.lists(st.tuples(st.sampled_from(MODELS), st.integers(0, 400)), min_size=1, max_size=120),
    max_lines=st.integers(1, 40),
    slack=st.integers(0, 300),
    replace=st.booleans(),
)
def test_shards_respect_both_limits_keep_one_model_and_give_back_the_input(
    sizes: list[tuple[str, int]], max_lines: int, slack: int, replace: bool
) -> None:
    lines = [_line(i, model, pad) for i, (model, pad) in enumerate(sizes)]
    # A byte limit near the longest line, so that lines close to it are common.
    limits = ShardLimits(lines=max_lines, bytes=max(len(line) for line in lines) + slack)
    seen: list[bytes] = []
    for content in _shard(lines, limits, "Qwen/QwQ-32B" if replace else None):
        shard = content.splitlines(keepends=True)
        assert 1 <= len(shard) <= limits.lines
        assert len(content) <= limits.bytes
        if not replace:
            assert len({json.loads(line)["body"]["model"] for line in shard}) == 1
        positions = [lines.index(line) for line in shard]
        assert positions == sorted(positions)  # input order inside each shard
        seen += shard
    assert sorted(seen) == sorted(lines)  # every line once, nothing else
    if replace or len({model for model, _ in sizes}) == 1:
        assert seen == lines  # one group: the shards concatenate back to the input


def test_a_line_over_the_byte_limit_is_a_problem_at_its_input_line(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(_line(0, MODELS[0], 10) + b"\n" + _line(1, MODELS[0], 500) + _line(2, MODELS[0], 10))
    ledger = Ledger(tmp_path / "ledger.sqlite")
    with ledger.transaction() as db:
        spool(source, tmp_path, db)
        problems = form_shards(
            ledger, db, tmp_path, "job", ShardLimits(lines=10, bytes=200), None, parents=(0,), first=1, plan="p"
        )
    assert [(p.line, p.field) for p in problems] == [(3, "line")]  # the blank line 2 is skipped, not counted
    assert "a shard holds at most 200" in problems[0].message
