"""tables.ResultLines: results read from their raw lines by pyarrow's JSON reader give the same table as the
BatchResult path, whatever the lines' shapes (each odd line, or a batch the reader refuses, takes that path)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from siliconflow_batch import BatchResult, tables
from siliconflow_batch._results import ResultLineError, parse_result_line
from siliconflow_batch.requests import from_rows
from siliconflow_batch.structured import Schema

FIXTURES = json.loads((Path(__file__).parent.parent / "fixtures" / "vendor_bodies.json").read_text(encoding="utf-8"))

BASE: dict[str, Any] = {
    "id": "batch_req_1",
    "custom_id": "r",
    "response": {
        "status_code": 200,
        "request_id": "q",
        "body": {
            "id": "c",
            "object": "chat.completion",
            "model": "deepseek-ai/DeepSeek-R1",
            "choices": [
                {
                    "index": 0,
                    "message": {
                        "role": "assistant",
                        "content": '{"label": "good", "score": 3}',
                        "reasoning_content": "hm",
                    },
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
        },
    },
    "error": None,
}
# Where an odd value may go: each path of the usual line, down to the fields the table reads.
PATHS = [
    ("response",),
    ("error",),
    ("response", "status_code"),
    ("response", "body"),
    ("response", "body", "choices"),
    ("response", "body", "usage"),
    ("response", "body", "usage", "prompt_tokens"),
    ("response", "body", "usage", "completion_tokens"),
    ("response", "body", "usage", "total_tokens"),
    ("response", "body", "choices", 0),
    ("response", "body", "choices", 0, "finish_reason"),
    ("response", "body", "choices", 0, "message"),
    ("response", "body", "choices", 0, "message", "content"),
    ("response", "body", "choices", 0, "message", "reasoning_content"),
    ("response", "body", "choices", 0, "message", "reasoning"),
]
DELETE = object()
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from([200, 201, 299, 300, 400, 429, 500, 0, 1.0, 7.0, "200", "", "length", "stop", " "])
    | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["message", "code", "error"]), inner),
    max_leaves=5,
)
mutations = st.lists(st.tuples(st.sampled_from(PATHS), values | st.just(DELETE)), max_size=3)


def mutated(changes: list[tuple[tuple[Any, ...], Any]]) -> dict[str, Any]:
    line = copy.deepcopy(BASE)
    for path, value in changes:
        where: Any = line
        for step in path[:-1]:
            try:
                where = where[step]
            except (KeyError, IndexError, TypeError):
                break
        else:
            last = path[-1]
            if isinstance(where, dict) or (isinstance(where, list) and isinstance(last, int) and last < len(where)):
                if value is DELETE:
                    where.pop(last) if isinstance(where, list) else where.pop(last, None)
                else:
                    where[last] = value
    return line


def items(lines: list[bytes], sources: list[str]) -> tuple[list[BatchResult], tables.ResultLines]:
    """The same results both ways: BatchResults, and ResultLines over the raw lines (an error file's by its result)."""
    results, rows = [], []
    for number, (raw, source) in enumerate(zip(lines, sources, strict=True)):
        try:
            result = parse_result_line(raw, 1, "error" if source == "error" else "output")
        except ResultLineError:
            continue  # not a result: a job's ledger never holds it
        assert result is not None
        result = result._replace(attempts=number % 3 + 1)
        results.append(result)
        rows.append((result.custom_id, result.attempts, raw if source == "output" else None, result))
    return results, tables.ResultLines(rows, lambda result: result)


def same(lines: list[bytes], sources: list[str] | None = None, **kwargs: Any) -> pa.Table:
    results, raw = items(lines, sources or ["output"] * len(lines))
    slow = tables.to_arrow(results, **kwargs)
    fast = tables.to_arrow(raw, **kwargs)
    assert fast.schema == slow.schema
    assert fast.to_pylist() == slow.to_pylist()
    return fast


def encoded(lines: list[dict[str, Any]]) -> list[bytes]:
    found = []
    for k, line in enumerate(lines):
        line = dict(line, custom_id=f"r{k}")
        found.append(json.dumps(line, ensure_ascii=k % 2 == 0).encode())
    return found


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutations, min_size=1, max_size=6))
def test_any_shape_of_line_gives_the_table_the_batch_result_path_gives(changes: list[Any]) -> None:
    same(encoded([mutated(c) for c in changes]))


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(mutations, min_size=1, max_size=6))
def test_so_do_the_parsed_columns_of_a_schema(changes: list[Any]) -> None:
    schema = {"type": "object", "properties": {"label": {"type": "string"}, "score": {"type": "integer"}}}
    same(encoded([mutated(c) for c in changes]), schema=schema)


def test_the_vendor_lines_and_the_usual_odd_ones_give_the_same_table() -> None:
    vendor = [entry["line"] for entry in FIXTURES["result_lines"]]
    odd = [
        mutated([(("response", "body", "choices"), [])]),
        mutated([(("response", "body", "usage", "total_tokens"), DELETE)]),  # total: the sum
        mutated([(("response", "body", "usage", "total_tokens"), None)]),  # total: 0
        mutated([(("response", "status_code"), 400), (("response", "body"), {"error": {"message": "bad"}})]),
        mutated([(("response", "body", "choices", 0, "message", "reasoning_content"), DELETE)]),
        mutated([(("response", "body", "choices", 0, "message", "reasoning"), "thought")]),
        mutated([(("error",), {"code": "x", "message": "failed"})]),
    ]
    lines = encoded(vendor + odd + [BASE] * 3)
    table = same(lines, ["output", "error"] + ["output"] * (len(lines) - 2))
    assert table.column("ok").to_pylist()[2:5] == [True, True, True]
    assert table.column("total_tokens").to_pylist()[3:5] == [12, 0]


def test_a_batch_the_reader_refuses_is_read_the_slow_way_and_the_rest_still_fast(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refused = mutated([(("response", "status_code"), "200")])  # a string where the reader wants a number
    lines = encoded([BASE, refused, BASE, BASE])
    calls = spy(monkeypatch)
    results, raw = items(lines, ["output"] * 4)
    fast = pa.Table.from_batches(list(tables.record_batches(raw, batch_size=2)))
    assert fast.to_pylist() == tables.to_arrow(results).to_pylist()
    assert calls == [2, 2]  # the first batch was refused (and read from its BatchResults), the second was not
    assert fast.column("ok").to_pylist() == [True, False, True, True]


@pytest.mark.parametrize(
    ("marked", "slow"),
    [((), []), ((0,), []), ((2,), ["r2"]), ((0, 2), ["r0", "r2"])],
    ids=["none", "first line: read in bulk", "a later line", "both"],
)
def test_a_byte_order_mark_is_read_where_the_reader_takes_it_and_its_line_the_slow_way_elsewhere(
    marked: tuple[int, ...], slow: list[str]
) -> None:
    lines = encoded([BASE] * 4)
    for k in marked:
        lines[k] = b"\xef\xbb\xbf" + lines[k]
    results = [parse_result_line(raw, 1, "output") for raw in lines]
    rows = [(r.custom_id, 1, raw, r) for r, raw in zip(results, lines, strict=True) if r is not None]
    made: list[BatchResult] = []

    def make(result: BatchResult) -> BatchResult:
        made.append(result)
        return result

    table = tables.to_arrow(tables.ResultLines(rows, make))
    assert table.column("content").to_pylist() == [BASE["response"]["body"]["choices"][0]["message"]["content"]] * 4
    assert table.column("custom_id").to_pylist() == ["r0", "r1", "r2", "r3"]
    assert [r.custom_id for r in made] == slow
    same(lines)


def test_lines_beside_their_rows_and_in_parquet(tmp_path: Path) -> None:
    source = tmp_path / "rows.csv"
    source.write_text("id,text\nr0,one\nr1,two\nr2,three\n")
    lines = encoded([BASE, mutated([(("response", "status_code"), 500)]), BASE])
    results, raw = items(lines, ["output"] * 3)
    rows = from_rows(source, prompt="{text}", model="m", id_column="id")
    assert tables.write_parquet(raw, tmp_path / "fast.parquet", rows) == 3
    tables.write_parquet(results, tmp_path / "slow.parquet", rows)
    assert pq.read_table(tmp_path / "fast.parquet").equals(pq.read_table(tmp_path / "slow.parquet"))
    _, shuffled = items([lines[1], lines[0], lines[2]], ["output"] * 3)
    with pytest.raises(sf_input_error()):
        tables.to_arrow(shuffled, rows)


def test_iterating_the_lines_gives_their_batch_results() -> None:
    results, raw = items(encoded([BASE, BASE]), ["output", "error"])
    assert list(raw) == results
    assert Schema.of({"type": "object"}).check_reply("{}", "stop", None) == ({}, None)


def spy(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The sizes of the batches of lines given to pyarrow's JSON reader, from now on."""
    sizes: list[int] = []
    real = tables._read_lines

    def read(pa: Any, lines: list[bytes]) -> Any:
        sizes.append(len(lines))
        return real(pa, lines)

    monkeypatch.setattr(tables, "_read_lines", read)
    return sizes


def sf_input_error() -> type[Exception]:
    from siliconflow_batch import InputValidationError

    return InputValidationError


@pytest.mark.parametrize("with_schema", [False, True])
def test_a_jobs_table_is_read_from_its_ledger_lines_and_equals_its_results_table(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, with_schema: bool
) -> None:
    import siliconflow_batch as sf
    from siliconflow_batch.testing import Emulator

    from job_support import client_for

    source = tmp_path / "rows.csv"
    source.write_text("id,text\n" + "".join(f"r{k},text {k}\n" for k in range(40)), encoding="utf-8")
    schema = {"type": "object", "properties": {"label": {"type": "string"}}, "required": ["label"]}
    requests = from_rows(
        source, prompt="{text}", model="deepseek-ai/DeepSeek-V3", id_column="id", schema=schema if with_schema else None
    )
    failures = {"invalid": 0.2, "broken_json": 0.2} if with_schema else {"invalid": 0.2, "rate_limit": 0.2}
    client = client_for("sync", Emulator(stage_seconds=0, line_failures=failures))
    assert isinstance(client, sf.SiliconFlow)
    job = client.jobs.run(
        requests, job_dir=tmp_path / "job", poll_interval=0.01, max_attempts=1, schema=schema if with_schema else None
    )
    read = spy(monkeypatch)
    fast = job.to_arrow(rows=requests)
    slow = tables.to_arrow(job.results(), requests, schema=job.schema)
    assert fast.to_pylist() == slow.to_pylist()
    assert fast.schema == slow.schema
    assert read  # the output file's lines in bulk; the error file's the other way
    assert 0 < read[0] < 40
    assert not all(fast.column("ok").to_pylist())
    assert job.write_table(tmp_path / "out.parquet", rows=requests) == 40
    assert pq.read_table(tmp_path / "out.parquet").equals(slow)


def test_a_count_past_64_bits_or_below_zero_is_no_count_in_every_path() -> None:
    """Found by the property test: a prompt_tokens of 2**63 sank the whole table (OverflowError in the int64 column)."""
    lines = encoded(
        [
            mutated([(("response", "body", "usage", "prompt_tokens"), 2**63)]),
            mutated([(("response", "body", "usage", "completion_tokens"), -5)]),
            mutated([(("response", "body", "usage", "total_tokens"), 2**64)]),
        ]
    )
    table = same(lines)
    assert table.column("prompt_tokens").to_pylist()[0] == 0
    assert table.column("completion_tokens").to_pylist()[1] == 0
    assert table.column("total_tokens").to_pylist()[2] == 0
    result = parse_result_line(lines[0], 1, "output")
    assert result is not None
    assert result.usage is not None
    assert result.usage.prompt_tokens == 0


def test_a_line_longer_than_a_megabyte_is_read_in_bulk_with_the_rest() -> None:
    long = mutated([(("response", "body", "choices", 0, "message", "content"), "word " * 300_000)])
    lines = encoded([BASE, long, BASE])
    assert len(lines[1]) > 1 << 20
    results, _ = items(lines, ["output"] * 3)
    made: list[BatchResult] = []

    def make(result: BatchResult) -> BatchResult:
        made.append(result)
        return result

    rows = tables.ResultLines([(r.custom_id, r.attempts, raw, r) for r, raw in zip(results, lines, strict=True)], make)
    table = tables.to_arrow(rows)
    assert table.to_pylist() == tables.to_arrow(results).to_pylist()
    assert made == []  # no line took the BatchResult path


def test_a_lone_surrogate_is_a_replacement_character_in_every_path(tmp_path: Path) -> None:
    """Found by a review: a reply cut inside a pair ("\\ud800", which json.loads reads) sank the whole table."""
    lines = [
        json.dumps(mutated([(("response", "body", "choices", 0, "message", "content"), "cut \ud800")])).encode(),
        json.dumps(mutated([(("error",), {"code": "x", "message": "bad \udc00"})])).encode(),
        json.dumps(BASE).encode(),
    ]
    table = same([json.dumps(dict(json.loads(raw), custom_id=f"r{k}")).encode() for k, raw in enumerate(lines)])
    assert table.column("content").to_pylist()[0] == "cut \ufffd"
    assert "\ufffd" in table.column("error_message").to_pylist()[1]
    results, _ = items(lines, ["output"] * 3)
    tables.write_csv(results, tmp_path / "out.csv")
    assert "cut \ufffd" in (tmp_path / "out.csv").read_text(encoding="utf-8")
