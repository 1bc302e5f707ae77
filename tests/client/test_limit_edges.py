"""The vendor's limits at their edge and one past, every run: file bytes, lines, metadata pairs, keys and values.

Each limit passes at its value and is refused one past it, with a message of its own naming the limit. The
property tests draw around the edges and always try the edges themselves (``@example``), so that an
off-by-one is caught in every run, not by chance.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from siliconflow_batch import validate_requests, validation
from siliconflow_batch.validation import (
    CHAT_COMPLETIONS,
    MAX_FILE_BYTES,
    MAX_LINES,
    MAX_METADATA_KEY,
    MAX_METADATA_PAIRS,
    MAX_METADATA_VALUE,
    validate_create,
)


def _lines(count: int) -> str:
    return "".join(
        json.dumps({"custom_id": f"r{i}", "body": {"messages": [{"role": "user", "content": "hi"}]}}) + "\n"
        for i in range(count)
    )


def test_the_limits_are_the_vendors() -> None:
    assert (MAX_FILE_BYTES, MAX_LINES, MAX_METADATA_PAIRS, MAX_METADATA_KEY, MAX_METADATA_VALUE) == (
        1024**3,
        5000,
        16,
        64,
        512,
    )


def test_a_file_one_byte_over_1_gb_is_refused_before_it_is_read(tmp_path: Path) -> None:
    path = tmp_path / "big.jsonl"
    with path.open("wb") as handle:  # sparse: no gigabyte is written or read
        handle.truncate(MAX_FILE_BYTES + 1)
    (problem,) = validate_requests(path).problems
    assert (problem.field, problem.message) == (
        "file",
        f"is {MAX_FILE_BYTES + 1} bytes; the limit is {MAX_FILE_BYTES} bytes (1 GB)",
    )


@pytest.mark.parametrize(
    ("over", "refused"),
    [pytest.param(0, False, id="at-the-byte-limit-passes"), pytest.param(1, True, id="1-byte-over")],
)
def test_the_file_byte_limit_is_inclusive(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, over: int, refused: bool
) -> None:
    """The same check with the limit lowered to the file's size (a 1 GB file is too big for a fast test)."""
    path = tmp_path / "in.jsonl"
    path.write_text(_lines(3))
    limit = path.stat().st_size - over
    monkeypatch.setattr(validation, "MAX_FILE_BYTES", limit)
    problems = [(p.field, p.message) for p in validate_requests(path).problems]
    if refused:
        assert problems == [("file", f"is {limit + 1} bytes; the limit is {limit} bytes (1 GB)")]
    else:
        assert problems == []


def _metadata(pairs: int, key_length: int, value_length: int) -> dict[str, str]:
    """``pairs`` pairs; the first has a key of ``key_length`` characters and a value of ``value_length``."""
    metadata = {f"k{i}": "v" for i in range(1, pairs)}
    if pairs:
        metadata["0" * key_length] = "x" * value_length
    return metadata


@settings(max_examples=60, deadline=None)
@example(pairs=MAX_METADATA_PAIRS, key_length=MAX_METADATA_KEY, value_length=MAX_METADATA_VALUE)  # all at the edge
@example(pairs=MAX_METADATA_PAIRS + 1, key_length=1, value_length=0)  # one pair too many
@example(pairs=1, key_length=MAX_METADATA_KEY + 1, value_length=0)  # a key one character too long
@example(pairs=1, key_length=1, value_length=MAX_METADATA_VALUE + 1)  # a value one character too long
@example(pairs=MAX_METADATA_PAIRS + 1, key_length=MAX_METADATA_KEY + 1, value_length=MAX_METADATA_VALUE + 1)
@given(
    pairs=st.integers(0, MAX_METADATA_PAIRS + 3),
    key_length=st.integers(1, MAX_METADATA_KEY + 3),
    value_length=st.integers(0, MAX_METADATA_VALUE + 3),
)
def test_metadata_is_refused_exactly_past_each_limit_with_its_own_message(
    pairs: int, key_length: int, value_length: int
) -> None:
    problems = validate_create(
        input_file_id="file-in",
        endpoint=CHAT_COMPLETIONS,
        completion_window="24h",
        metadata=_metadata(pairs, key_length, value_length),
        replace_model=None,
    )
    expected = set()
    if pairs > MAX_METADATA_PAIRS:
        expected.add(f"has {pairs} pairs; the limit is {MAX_METADATA_PAIRS}")
    if pairs and key_length > MAX_METADATA_KEY:
        expected.add(f"key is {key_length} characters; the limit is {MAX_METADATA_KEY}")
    if pairs and value_length > MAX_METADATA_VALUE:
        expected.add(f"value is {value_length} characters; the limit is {MAX_METADATA_VALUE}")
    assert {p.message for p in problems} == expected
    assert len(problems) == len(expected)
    assert all(p.field.startswith("metadata") for p in problems)
