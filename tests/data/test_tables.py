"""siliconflow_batch.tables: results as Arrow, Parquet, CSV and pandas, beside their input rows, atomically."""

from __future__ import annotations

import csv
import json
import sys
import tracemalloc
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import siliconflow_batch as sf
from siliconflow_batch import BatchResult, tables
from siliconflow_batch.requests import from_rows
from siliconflow_batch.testing import Emulator

from job_support import client_for

FIXTURES = json.loads((Path(__file__).parent.parent / "fixtures" / "vendor_bodies.json").read_text(encoding="utf-8"))


def reply(custom_id: str, content: str = "fine", finish: str = "stop", attempts: int = 1) -> BatchResult:
    body = {
        "model": "deepseek-ai/DeepSeek-R1",
        "choices": [{"message": {"content": content, "reasoning_content": "hm"}, "finish_reason": finish}],
        "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
    }
    return BatchResult(custom_id, {"status_code": 200, "body": body}, None, attempts=attempts)


def failed(custom_id: str) -> BatchResult:
    body = {"error": {"message": "Invalid model", "code": "model_not_found"}}
    return BatchResult(custom_id, {"status_code": 400, "body": body}, None, attempts=3)


ROWS = [{"id": "a", "text": "one"}, {"id": "b", "text": "two"}, {"id": "c", "text": "three"}]
RESULTS = [reply("a"), failed("b"), reply("c", "cut", "length")]


def test_the_table_has_the_input_columns_then_the_result_columns_in_order() -> None:
    table = tables.to_arrow(RESULTS, rows=ROWS)
    assert table.column_names == ["id", "text", *tables.RESULT_COLUMNS]
    assert table.to_pylist()[1] == {
        "id": "b",
        "text": "two",
        "custom_id": "b",
        "ok": False,
        "content": None,
        "reasoning_content": None,
        "finish_reason": None,
        "prompt_tokens": None,
        "completion_tokens": None,
        "total_tokens": None,
        "error_message": "HTTP 400: model_not_found: Invalid model",
        "attempts": 3,
    }
    first = table.to_pylist()[0]
    assert (first["content"], first["reasoning_content"], first["finish_reason"]) == ("fine", "hm", "stop")
    assert (first["prompt_tokens"], first["completion_tokens"], first["total_tokens"]) == (5, 7, 12)
    assert table.column("finish_reason").to_pylist()[2] == "length"
    assert table.schema.field("prompt_tokens").type == pa.int64()


def test_without_rows_the_table_is_the_results_alone_and_the_vendor_lines_read() -> None:
    lines = [e["line"] for e in FIXTURES["result_lines"]]
    results = [BatchResult(line["custom_id"], line["response"], line["error"]) for line in lines]
    table = tables.to_arrow(results)
    assert table.column_names == list(tables.RESULT_COLUMNS)
    assert table.column("content").to_pylist() == [e["expect"]["content"] for e in FIXTURES["result_lines"]]
    assert table.column("ok").to_pylist() == [e["expect"]["ok"] for e in FIXTURES["result_lines"]]
    assert table.column("error_message").to_pylist()[1].startswith("batch_expired: ")


def test_from_rows_is_joined_by_custom_id_and_a_shuffled_result_is_refused(tmp_path: Path) -> None:
    built = from_rows(pd.DataFrame(ROWS), prompt="{text}", model="m", id_column="id")
    assert tables.to_arrow(RESULTS, rows=built).column("text").to_pylist() == ["one", "two", "three"]
    shuffled = [RESULTS[0], RESULTS[2], RESULTS[1]]
    with pytest.raises(sf.InputValidationError, match="result 1 is for custom_id 'c' but row 1 of the input is 'b'"):
        tables.to_arrow(shuffled, rows=built)


def test_counts_that_differ_are_refused_either_way() -> None:
    with pytest.raises(sf.InputValidationError, match="more input rows than results"):
        tables.to_arrow(RESULTS[:2], rows=ROWS)
    with pytest.raises(sf.InputValidationError, match="more results than input rows"):
        tables.to_arrow(RESULTS, rows=ROWS[:2])


def test_an_input_column_named_like_a_result_column_is_kept_under_a_prefix() -> None:
    rows = [{"custom_id": "x", "content": "the input's"}]
    table = tables.to_arrow([reply("x")], rows=rows)
    assert table.column_names[:2] == ["input_custom_id", "input_content"]
    assert table.column("input_content").to_pylist() == ["the input's"]
    assert table.column("content").to_pylist() == ["fine"]


def _results(count: int, size: int = 200) -> Iterator[BatchResult]:
    for i in range(count):
        yield reply(str(i), "y" * size)


@pytest.mark.parametrize("batch_size", [1, 7, 1000])
def test_parquet_is_written_by_record_batches_beside_rows_of_other_batch_sizes(
    tmp_path: Path, batch_size: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    from siliconflow_batch import requests as sfr

    monkeypatch.setattr(sfr, "BATCH_ROWS", 5)  # the input comes in batches of 5: every cut falls elsewhere
    source = tmp_path / "in.parquet"
    pq.write_table(pa.table({"n": list(range(23)), "text": [f"t{i}" for i in range(23)]}), source)
    built = from_rows(source, prompt="{text}", model="m")
    out = tmp_path / "out.parquet"
    assert tables.write_parquet(_results(23), out, rows=built, batch_size=batch_size) == 23
    back = pq.read_table(out)
    assert back.column("n").to_pylist() == list(range(23))
    assert back.column("custom_id").to_pylist() == [str(i) for i in range(23)]
    assert pq.ParquetFile(out).metadata.num_row_groups == -(-23 // batch_size)


def test_the_replies_and_custom_ids_are_written_plain_and_the_other_columns_by_dictionary(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    rows = [{"content": "an input column named content", "n": 1}] * 3
    tables.write_parquet(RESULTS, out, rows=rows)
    group = pq.ParquetFile(out).metadata.row_group(0)
    dictionary = {group.column(k).path_in_schema: group.column(k).has_dictionary_page for k in range(group.num_columns)}
    assert dictionary == {
        "input_content": True,
        "n": True,
        "custom_id": False,
        "ok": False,  # Parquet has no dictionary for booleans
        "content": False,
        "reasoning_content": False,
        "finish_reason": True,
        "prompt_tokens": True,
        "completion_tokens": True,
        "total_tokens": True,
        "error_message": True,
        "attempts": True,
    }


def test_csv_is_written_with_a_header_and_empty_nulls(tmp_path: Path) -> None:
    out = tmp_path / "out.csv"
    assert tables.write_table(RESULTS, out, rows=ROWS) == 3
    with out.open(newline="") as handle:
        lines = list(csv.DictReader(handle))
    assert list(lines[0]) == ["id", "text", *tables.RESULT_COLUMNS]
    assert (lines[1]["ok"], lines[1]["content"], lines[1]["error_message"]) == (
        "false",
        "",
        "HTTP 400: model_not_found: Invalid model",
    )


def test_both_writers_take_the_table_options_and_refuse_a_misspelt_one(tmp_path: Path) -> None:
    schema = {"type": "object", "properties": {"label": {"type": "string"}}}
    options: tables.TableOptions = {"batch_size": 2, "schema": schema}
    assert tables.write_csv(_results(5), tmp_path / "out.csv", **options) == 5
    with (tmp_path / "out.csv").open(newline="") as handle:
        assert list(next(csv.DictReader(handle)))[-2:] == ["label", "parse_error"]
    assert tables.write_parquet(_results(5), tmp_path / "out.parquet", **options) == 5
    assert pq.ParquetFile(tmp_path / "out.parquet").metadata.num_row_groups == 3
    assert pq.read_table(tmp_path / "out.parquet").column_names[-2:] == ["label", "parse_error"]
    with pytest.raises(TypeError, match="batchsize"):
        tables.write_parquet(_results(5), tmp_path / "other.parquet", batchsize=2)  # type: ignore[call-arg]
    assert not (tmp_path / "other.parquet").exists()


def test_write_table_chooses_by_extension_and_refuses_others(tmp_path: Path) -> None:
    assert tables.write_table(RESULTS, tmp_path / "out.PARQUET") == 3
    assert pq.read_table(tmp_path / "out.PARQUET").num_rows == 3
    with pytest.raises(sf.InputValidationError, match=r"must end in \.parquet or \.csv"):
        tables.write_table(RESULTS, tmp_path / "out.xlsx")


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temporary(tmp_path: Path) -> None:
    out = tmp_path / "out.parquet"
    out.write_bytes(b"the old results")

    def broken() -> Iterator[BatchResult]:
        yield from _results(10)
        raise OSError("the disk went away")

    with pytest.raises(OSError, match="the disk went away"):
        tables.write_parquet(broken(), out, batch_size=4)
    assert out.read_bytes() == b"the old results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.parquet"]


def test_a_destination_that_cannot_be_a_file_is_refused_before_any_work(tmp_path: Path) -> None:
    def never() -> Iterator[BatchResult]:
        raise AssertionError("read")
        yield

    with pytest.raises(sf.InputValidationError, match="folder"):
        tables.write_parquet(never(), tmp_path / "nowhere" / "out.parquet")


def test_no_results_still_write_a_table_with_the_columns(tmp_path: Path) -> None:
    built = from_rows(
        pd.DataFrame({"id": pd.Series([], dtype=str), "text": pd.Series([], dtype=str)}), prompt="{text}", model="m"
    )
    out = tmp_path / "empty.parquet"
    assert tables.write_parquet([], out, rows=built) == 0
    assert pq.read_table(out).column_names == ["id", "text", *tables.RESULT_COLUMNS]
    assert tables.to_arrow([]).column_names == list(tables.RESULT_COLUMNS)


def test_to_pandas_gives_a_frame_with_nullable_counts() -> None:
    frame = tables.to_pandas(RESULTS, rows=ROWS)
    assert list(frame["custom_id"]) == ["a", "b", "c"]
    assert frame["ok"].tolist() == [True, False, True]
    assert frame["prompt_tokens"].isna().tolist() == [False, True, False]


def test_writing_parquet_holds_one_batch_in_memory(tmp_path: Path) -> None:
    out = tmp_path / "big.parquet"
    tracemalloc.start()
    try:
        tables.write_parquet(_results(20_000, 1000), out, batch_size=2000)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert pq.read_metadata(out).num_rows == 20_000
    # 20 MB of content; a batch of 2,000 is ~2 MB of it (and its Python objects).
    assert peak < 12 * 1024 * 1024, peak


def test_a_missing_pyarrow_is_one_line_naming_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in list(sys.modules):
        if name.split(".")[0] == "pyarrow":
            monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "pyarrow", None)
    with pytest.raises(tables.MissingExtraError) as caught:
        tables.write_parquet(RESULTS, tmp_path / "out.parquet")
    message = str(caught.value)
    assert message == "writing Parquet needs pyarrow, which is not installed: pip install 'siliconflow-batch[data]'"
    assert "\n" not in message
    assert not (tmp_path / "out.parquet").exists()


def test_a_missing_pandas_names_what_to_install(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "pandas", None)
    with pytest.raises(tables.MissingExtraError, match=r"^to_pandas needs pandas, which is not installed: pip install"):
        tables.to_pandas(RESULTS)


def test_a_job_from_a_csv_comes_back_as_a_parquet_beside_its_rows(tmp_path: Path) -> None:
    source = tmp_path / "reviews.csv"
    source.write_text("id,review\nr1,great\nr2,awful\nr3,fine\n", encoding="utf-8")
    requests = from_rows(source, prompt="Sentiment of: {review}", model="deepseek-ai/DeepSeek-V3", id_column="id")
    client = client_for("sync", Emulator(stage_seconds=0))
    assert isinstance(client, sf.SiliconFlow)
    job = client.jobs.run(requests, job_dir=tmp_path / "job", poll_interval=0.01)
    out = tmp_path / "results.parquet"
    assert tables.write_parquet(job.results(), out, rows=requests) == 3
    back: list[dict[str, Any]] = pq.read_table(out).to_pylist()
    assert [(row["id"], row["review"], row["custom_id"], row["ok"]) for row in back] == [
        ("r1", "great", "r1", True),
        ("r2", "awful", "r2", True),
        ("r3", "fine", "r3", True),
    ]
    assert all(row["content"] and row["total_tokens"] for row in back)
