"""A job takes a line of any length (issue 23): the vendor limits a file (1 GB, 5,000 lines), not its lines.

A line longer than ``MAX_LINE_BYTES`` is spooled, hashed, cut into a shard and estimated a piece at a time. The
limits are lowered here (a line of a few hundred bytes is "long", read 16 bytes at a time) so that the same
input read whole and read in pieces can be compared: the spool, the fingerprint, the ledger's rows and the shards
are byte for byte the same; only the cost estimate differs, a bound from the line's size.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from siliconflow_batch import _long_line
from siliconflow_batch._jobs import input as job_input
from siliconflow_batch._jobs import money
from siliconflow_batch._jobs.input import SHARD_DIR, SPOOL_NAME, ShardLimits, fingerprint, form_shards, measure, spool
from siliconflow_batch._jobs.ledger import Ledger
from siliconflow_batch.estimate import Tally, line_cost, line_cost_from_size
from siliconflow_batch.pricing import ModelPrice, PriceTable

V3 = "deepseek-ai/DeepSeek-V3"
PRICES = PriceTable({V3: ModelPrice(Decimal(1), Decimal(4))}, "test prices", "2025-01-01")
SHORT = 200  # lines longer than this are "long" when the limit is lowered


def _request(custom_id: str, content: str, **body: object) -> bytes:
    line = {"custom_id": custom_id, "body": {"model": V3, "messages": [{"role": "user", "content": content}], **body}}
    return json.dumps(line, ensure_ascii=False).encode()


def _job(tmp: Path, source: Path) -> dict[str, object]:
    """Spool ``source`` and cut it: everything a job records of it."""
    tmp.mkdir()
    ledger = Ledger(tmp / "ledger.sqlite")
    tally = Tally(PRICES)
    try:
        with ledger.transaction():
            digest, problems = spool(source, tmp, ledger)
            rows = list(ledger.waiting([0]))
            ids = [row.custom_id for row in ledger.rows()]
            if not problems:
                problems = form_shards(ledger, tmp, "job", ShardLimits(lines=3), None, parents=(0,), first=1,
                                       plan="p", tally=tally)  # fmt: skip
            bounds = [shard.bound for shard in ledger.shards()]
    finally:
        ledger.close()
    shards = sorted((tmp / SHARD_DIR).iterdir()) if (tmp / SHARD_DIR).exists() else []
    return {
        "digest": digest,
        "fingerprint": fingerprint(source),
        "problems": problems,
        "spool": (tmp / SPOOL_NAME).read_bytes(),
        "rows": rows,
        "ids": ids,
        "shards": [path.read_bytes() for path in shards],
        "bounds": bounds,
        "tally": tally,
    }


def _comparable(problems: object) -> list[tuple[str, int | None, str]]:
    """The problems, where a line that is not JSON is named so, without the words of the parser that read it
    (json.loads for a line read whole, the piece scanner for one read in pieces)."""
    assert isinstance(problems, list)
    return [
        (p.field, p.line, "is not valid JSON" if p.message.startswith("is not valid JSON") else p.message)
        for p in problems
    ]


def _in_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(job_input, "MAX_LINE_BYTES", SHORT)
    monkeypatch.setattr(_long_line, "PIECE_BYTES", 16)


LINES = st.lists(
    st.tuples(
        st.sampled_from(["short", "long", "blank", "long blank", "not json"]),
        st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=400),
    ),
    min_size=1,
    max_size=8,
)


@settings(max_examples=40, deadline=None)
@given(lines=LINES, final_newline=st.booleans())
def test_a_long_line_is_spooled_and_cut_as_if_it_were_read_whole(
    tmp_path_factory: pytest.TempPathFactory, lines: list[tuple[str, str]], final_newline: bool
) -> None:
    raw = []
    for number, (kind, text) in enumerate(lines):
        if kind == "short":
            raw.append(_request(f"id-{number}", text[:10]))
        elif kind == "long":
            raw.append(_request(f"id-{number}", text + "y" * SHORT))
        elif kind == "blank":
            raw.append(b" ")
        elif kind == "long blank":
            raw.append(b" \t" * SHORT)
        else:
            raw.append(b'{"custom_id": "x' + b"z" * SHORT)
    scratch = tmp_path_factory.mktemp("job")
    source = scratch / "in.jsonl"
    source.write_bytes(b"\n".join(raw) + (b"\n" if final_newline else b""))
    whole = _job(scratch / "whole", source)
    with pytest.MonkeyPatch.context() as monkeypatch:
        _in_pieces(monkeypatch)
        pieces = _job(scratch / "pieces", source)
    for key in ("digest", "fingerprint", "spool", "rows", "ids", "shards"):
        assert pieces[key] == whole[key], key
    assert _comparable(pieces["problems"]) == _comparable(whole["problems"])
    # The estimate: a long line's input from its size, at least the estimate from its text; the output the same.
    # Of the lines the validator passed, read whole or in pieces alike.
    read, bound = whole["tally"], pieces["tally"]
    assert isinstance(read, Tally)
    assert isinstance(bound, Tally)
    assert bound.requests == read.requests
    made, bounded = read.estimate(), bound.estimate()
    assert bounded.input_tokens >= made.input_tokens
    assert bounded.output_tokens_max == made.output_tokens_max
    for exact, upper in zip(whole["bounds"], pieces["bounds"], strict=True):  # type: ignore[call-overload]
        assert (upper is None) == (exact is None)  # None: a line has no model, so no price
        assert upper is None or Decimal(upper) >= Decimal(exact)


def test_a_long_line_is_estimated_from_its_size_with_its_output_bound(monkeypatch: pytest.MonkeyPatch) -> None:
    line = _request("big", "中文" * 300, max_tokens=77, n=3, enable_thinking=True)
    handle = __import__("io").BytesIO(line[100:] + b"\n")
    scanned = _long_line.scan_line(line[:100], handle)
    body = scanned.line["body"]
    cost = line_cost_from_size(body, len(line) + 1, body["messages"].count)
    exact = line_cost(line)
    assert cost.model == exact.model == V3
    assert (cost.output_tokens_max, cost.output_from, cost.choices) == (exact.output_tokens_max, "max_tokens", 3)
    assert cost.messages == exact.messages == 1
    assert cost.input_tokens >= exact.input_tokens
    assert line_cost_from_size([], 1000, 0).model == ""  # a line that is not an object has no model (no price)


def test_a_custom_id_too_long_to_keep_is_a_problem_of_its_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Results are matched to requests by custom_id: a job must hold it whole.
    _in_pieces(monkeypatch)
    monkeypatch.setattr(_long_line, "KEEP_BYTES", 50)
    source = tmp_path / "in.jsonl"
    source.write_bytes(_request("ok", "x" * SHORT) + b"\n" + _request("i" * 60, "x" * SHORT) + b"\n")
    ledger = Ledger(tmp_path / "ledger.sqlite")
    with ledger.transaction():
        _, problems = spool(source, tmp_path, ledger)
    ledger.close()
    assert [(p.field, p.line) for p in problems] == [("custom_id", 2)]
    assert "is 62 bytes; a job keeps at most 50" in problems[0].message


def test_a_dry_run_counts_a_long_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    source = tmp_path / "in.jsonl"
    source.write_bytes(b"\n".join(_request(f"id-{i}", "x" * (SHORT * i)) for i in range(4)) + b"\n")
    whole = Tally(PRICES)
    assert measure(source, ShardLimits(lines=3), whole) == 2
    _in_pieces(monkeypatch)
    pieces = Tally(PRICES)
    assert measure(source, ShardLimits(lines=3), pieces) == 2
    assert pieces.requests == whole.requests == 4
    assert pieces.estimate().input_tokens >= whole.estimate().input_tokens
    bound, exact = pieces.upper_bound, whole.upper_bound
    assert bound is not None
    assert exact is not None
    assert bound >= exact


def test_calibration_leaves_out_a_long_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Its estimate is a bound from its size: counted against its tokens, it would skew the rate of the others.
    source = tmp_path / "in.jsonl"
    source.write_bytes(_request("short", "x" * 10) + b"\n" + _request("long", "x" * SHORT) + b"\n")
    ledger = Ledger(tmp_path / "ledger.sqlite")
    with ledger.transaction():
        spool(source, tmp_path, ledger)
    ledger.close()
    lengths = [len(line) + 1 for line in source.read_bytes().splitlines()]
    ran = [(0, lengths[0], b'{"response": {"body": {"usage": {"prompt_tokens": 9}}}}'),
           (lengths[0], lengths[1], b'{"response": {"body": {"usage": {"prompt_tokens": 50}}}}')]  # fmt: skip
    monkeypatch.setattr(Ledger, "ran", lambda self: iter(ran))
    assert money.calibration_of(tmp_path).by_model[V3].lines == 2
    monkeypatch.setattr(money, "MAX_LINE_BYTES", SHORT)
    entry = money.calibration_of(tmp_path).by_model[V3]
    assert (entry.lines, entry.counted) == (1, 9)


def test_a_long_line_is_never_held_whole(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # What spooling, fingerprinting, cutting, checking and estimating hold at once is bounded by the limits, not by
    # the line: with 1 MiB read whole and 64 KiB pieces, a 24 MiB line costs a few MiB at its peak.
    import tracemalloc

    from siliconflow_batch import validation

    monkeypatch.setattr(job_input, "MAX_LINE_BYTES", 1024**2)
    monkeypatch.setattr(validation, "MAX_LINE_BYTES", 1024**2)  # the shard's check
    monkeypatch.setattr(_long_line, "PIECE_BYTES", 64 * 1024)
    size = 24 * 1024**2
    source = tmp_path / "in.jsonl"
    with source.open("wb") as out:
        out.write(b'{"custom_id": "big", "body": {"model": "' + V3.encode() + b'", "messages": [{"role": "user", ')
        out.write(b'"content": "')
        for _ in range(size // 1024**2):
            out.write(b"x" * 1024**2)
        out.write(b'"}]}}\n' + _request("small", "hi") + b"\n")
    ledger = Ledger(tmp_path / "ledger.sqlite")
    tally = Tally(PRICES)
    tracemalloc.start()
    try:
        with ledger.transaction():
            fingerprint(source)
            measure(source, ShardLimits(), Tally(PRICES))
            _, problems = spool(source, tmp_path, ledger)
            problems += form_shards(ledger, tmp_path, "job", ShardLimits(), None, parents=(0,), first=1, plan="p",
                                    tally=tally)  # fmt: skip
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
        ledger.close()
    assert problems == []
    assert tally.requests == 2
    (shard,) = (tmp_path / SHARD_DIR).iterdir()
    assert shard.stat().st_size == source.stat().st_size
    assert peak < 8 * 1024**2, peak  # a third of the line


def test_a_long_string_in_the_first_piece_is_not_copied() -> None:
    # The first piece of a long line is as long as is read whole (32 MiB): its content string is skipped in place.
    import io
    import tracemalloc

    first = _request("big", "x" * 8 * 1024**2)
    tracemalloc.start()
    try:
        scanned = _long_line.scan_line(first, io.BytesIO(b"\n"))
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert scanned.error is None
    assert scanned.line["custom_id"] == "big"
    assert peak < 4 * 1024**2, peak  # a piece or two (its UTF-8 check), not the 8 MiB string
