"""Sharding: for random inputs, shards respect both limits, are cut full, keep one model each, give back the input.

Each limit is hit at its edge and one past it in every run (the ``@example`` cases), not only when a random
draw happens to land there: the byte limit usually binds first, so a line-limit bug was found by chance alone.
"""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

from hypothesis import example, given, settings
from hypothesis import strategies as st

from siliconflow_batch._jobs.input import SHARD_DIR, ShardLimits, form_shards, spool
from siliconflow_batch._jobs.ledger import Ledger
from siliconflow_batch.validation import MAX_LINES

MODELS = ["deepseek-ai/DeepSeek-V3", "deepseek-ai/DeepSeek-R1", "Qwen/QwQ-32B"]
ONE, TWO = MODELS[0], MODELS[1]


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
        with ledger.transaction():
            _, problems = spool(source, job_dir, ledger)
            assert problems == []
            problems = form_shards(ledger, job_dir, "job", limits, replace_model, parents=(0,), first=1, plan="p")
            assert problems == []
        ledger.close()
        return [path.read_bytes() for path in sorted((job_dir / SHARD_DIR).iterdir())]


# Lines of ids id-0 .. id-9 and one pad are all this long: the byte examples below count in whole lines.
LINE = len(_line(0, ONE, 0))
ROOM = 10_000  # slack that leaves the byte limit far away: only the line limit binds


@settings(max_examples=60, deadline=None)
# The line limit with bytes to spare: reached exactly (one full shard), one past (5 + 1), twice over (5 + 5).
@example(sizes=[(ONE, 0)] * 5, max_lines=5, slack=ROOM, replace=False)
@example(sizes=[(ONE, 0)] * 6, max_lines=5, slack=ROOM, replace=False)
@example(sizes=[(ONE, 0)] * 10, max_lines=5, slack=ROOM, replace=True)
@example(sizes=[(ONE, 0), (TWO, 0)] * 5, max_lines=2, slack=ROOM, replace=False)  # per model: 2 + 2 + 1
@example(sizes=[(ONE, 0)] * 2, max_lines=1, slack=ROOM, replace=False)  # the smallest limit
# The byte limit with lines to spare: three lines fit exactly (3 + 3); one byte less and only two do (2 + 2 + 2).
@example(sizes=[(ONE, 0)] * 6, max_lines=40, slack=2 * LINE, replace=False)
@example(sizes=[(ONE, 0)] * 6, max_lines=40, slack=2 * LINE - 1, replace=False)
# A line exactly as long as the byte limit is a shard of its own, not a problem.
@example(sizes=[(ONE, 10), (ONE, 50), (ONE, 10)], max_lines=40, slack=0, replace=False)
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
    last: dict[str, list[bytes]] = {}  # each group's (model's, or with replace the one) latest shard
    for content in _shard(lines, limits, "Qwen/QwQ-32B" if replace else None):
        shard = content.splitlines(keepends=True)
        assert 1 <= len(shard) <= limits.lines
        assert len(content) <= limits.bytes
        if not replace:
            assert len({json.loads(line)["body"]["model"] for line in shard}) == 1
        positions = [lines.index(line) for line in shard]
        assert positions == sorted(positions)  # input order inside each shard
        group = "" if replace else json.loads(shard[0])["body"]["model"]
        before = last.get(group)
        if before is not None:  # cut full: the group's shard before was closed only when this line did not fit
            assert len(before) == limits.lines or sum(map(len, before)) + len(shard[0]) > limits.bytes
        last[group] = shard
        seen += shard
    assert sorted(seen) == sorted(lines)  # every line once, nothing else
    if replace or len({model for model, _ in sizes}) == 1:
        assert seen == lines  # one group: the shards concatenate back to the input


def test_a_line_over_the_byte_limit_is_a_problem_at_its_input_line(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(_line(0, MODELS[0], 10) + b"\n" + _line(1, MODELS[0], 500) + _line(2, MODELS[0], 10))
    ledger = Ledger(tmp_path / "ledger.sqlite")
    with ledger.transaction():
        spool(source, tmp_path, ledger)
        problems = form_shards(
            ledger, tmp_path, "job", ShardLimits(lines=10, bytes=200), None, parents=(0,), first=1, plan="p"
        )
    assert [(p.line, p.field) for p in problems] == [(3, "line")]  # the blank line 2 is skipped, not counted
    assert "a shard holds at most 200" in problems[0].message


def _cut(tmp_path: Path, count: int, limits: ShardLimits) -> list[int]:
    """The line count of each shard that ``count`` small requests of one model are cut into."""
    tmp_path.mkdir()
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"".join(_line(i, ONE, 0) for i in range(count)))
    ledger = Ledger(tmp_path / "ledger.sqlite")
    with ledger.transaction():
        spool(source, tmp_path, ledger)
        problems = form_shards(ledger, tmp_path, "job", limits, None, parents=(0,), first=1, plan="p")
    ledger.close()
    assert problems == []
    return [len(path.read_bytes().splitlines()) for path in sorted((tmp_path / SHARD_DIR).iterdir())]


def test_the_vendors_5000_lines_are_one_shard_and_5001_are_two(tmp_path: Path) -> None:
    """With the default limits the byte limit (1 GB) has room: the line limit alone decides."""
    assert _cut(tmp_path / "at", MAX_LINES, ShardLimits()) == [MAX_LINES]
    assert _cut(tmp_path / "past", MAX_LINES + 1, ShardLimits()) == [MAX_LINES, 1]


def test_a_line_exactly_at_the_byte_limit_fits_and_one_byte_more_is_a_problem(tmp_path: Path) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(_line(0, ONE, 0) + _line(1, ONE, 1))  # LINE bytes, then LINE + 1
    ledger = Ledger(tmp_path / "ledger.sqlite")
    with ledger.transaction():
        spool(source, tmp_path, ledger)
        problems = form_shards(
            ledger, tmp_path, "job", ShardLimits(lines=10, bytes=LINE), None, parents=(0,), first=1, plan="p"
        )
    ledger.close()
    assert [(p.line, p.field, p.message) for p in problems] == [
        (2, "line", f"is {LINE + 1} bytes; a shard holds at most {LINE}")
    ]
