"""siliconflow_batch.requests.from_rows: request lines from every kind of rows, streamed, with one clear error."""

from __future__ import annotations

import json
import subprocess
import sys
import tracemalloc
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import datasets
import pandas as pd
import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

import siliconflow_batch as sf
from siliconflow_batch import requests as sfr
from siliconflow_batch.testing import Emulator

from job_support import client_for

ROWS = [
    {"id": 10, "text": "hello", "score": 1.5},
    {"id": 11, "text": "wide\nworld", "score": 2.25},
    {"id": 12, "text": "naïve", "score": 3.0},
]


def _parquet(tmp: Path) -> object:
    pq.write_table(pa.Table.from_pylist(ROWS), tmp / "rows.parquet")
    return tmp / "rows.parquet"


def _csv(tmp: Path) -> object:
    path = tmp / "rows.csv"
    pd.DataFrame(ROWS).to_csv(path, index=False)
    return str(path)


def _jsonl(tmp: Path) -> object:
    path = tmp / "rows.jsonl"
    path.write_text("".join(json.dumps(r) + "\n\n" for r in ROWS), encoding="utf-8")
    return path


SOURCES: dict[str, Callable[[Path], object]] = {
    "parquet": _parquet,
    "csv": _csv,
    "jsonl": _jsonl,
    "pandas": lambda _: pd.DataFrame(ROWS),
    "polars": lambda _: pl.DataFrame(ROWS),
    "datasets": lambda _: datasets.Dataset.from_list(ROWS),
    "arrow": lambda _: pa.Table.from_pylist(ROWS),
    "list": lambda _: list(ROWS),
    "generator": lambda _: (dict(r) for r in ROWS),
}


@pytest.mark.parametrize("kind", sorted(SOURCES))
def test_every_kind_of_rows_gives_the_same_request_lines(kind: str, tmp_path: Path) -> None:
    built = sfr.from_rows(
        SOURCES[kind](tmp_path),
        prompt="Summarize: {text}",
        model="deepseek-ai/DeepSeek-V3",
        system="Be brief.",
        id_column="id",
        max_tokens=64,
        temperature=0,
    )
    lines = list(built)
    assert lines[1] == {
        "custom_id": "11",
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {
            "model": "deepseek-ai/DeepSeek-V3",
            "messages": [
                {"role": "system", "content": "Be brief."},
                {"role": "user", "content": "Summarize: wide\nworld"},
            ],
            "max_tokens": 64,
            "temperature": 0,
        },
    }
    assert [line["custom_id"] for line in lines] == ["10", "11", "12"]
    assert [line["body"]["messages"][1]["content"] for line in lines][2] == "Summarize: naïve"


@pytest.mark.parametrize("kind", sorted(set(SOURCES) - {"generator"}))
def test_the_rows_read_again_in_order_beside_their_ids(kind: str, tmp_path: Path) -> None:
    built = sfr.from_rows(SOURCES[kind](tmp_path), prompt="{text}", model="m")
    assert list(built.custom_ids()) == ["0", "1", "2"]  # the row numbers, counting from 0
    rows = list(built.rows())
    assert [row["text"] for row in rows] == [r["text"] for r in ROWS]
    assert set(rows[0]) == {"id", "text", "score"}
    assert list(built) == list(built)  # a re-readable source builds the same lines every time


@pytest.mark.parametrize("kind", ["parquet", "pandas", "arrow", "list"])
def test_the_input_columns_come_as_arrow_batches_beside_their_ids_and_schema(kind: str, tmp_path: Path) -> None:
    built = sfr.from_rows(SOURCES[kind](tmp_path), prompt="{text}", model="m", id_column="id")
    batches = list(built.input_batches())
    assert [i for _, ids in batches for i in ids] == ["10", "11", "12"]
    assert [v for batch, _ in batches for v in batch.column("text").to_pylist()] == [r["text"] for r in ROWS]
    assert built.input_schema().names == ["id", "text", "score"]


def test_csv_values_reach_the_prompt_as_the_file_writes_them(tmp_path: Path) -> None:
    path = tmp_path / "rows.csv"
    path.write_text('\ufeffid,price\n1,1.50\n2,"3,00"\n', encoding="utf-8")
    built = sfr.from_rows(path, prompt="Price: {price}", model="m", id_column="id")
    assert [line["body"]["messages"][0]["content"] for line in built] == ["Price: 1.50", "Price: 3,00"]
    assert built.columns == ["id", "price"]


def test_a_tsv_is_read_by_tabs(tmp_path: Path) -> None:
    path = tmp_path / "rows.tsv"
    path.write_text("id\ttext\na\tone, two\n", encoding="utf-8")
    assert [line["body"]["messages"][0]["content"] for line in sfr.from_rows(path, prompt="{text}", model="m")] == [
        "one, two"
    ]


def test_the_lines_pass_the_validator_and_a_job_runs_them(tmp_path: Path) -> None:
    built = sfr.from_rows(ROWS, prompt="Summarize: {text}", model="deepseek-ai/DeepSeek-V3", id_column="id")
    path = tmp_path / "in.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in built))
    assert sf.validate_requests(path).ok
    client = client_for("sync", Emulator(stage_seconds=0))
    assert isinstance(client, sf.SiliconFlow)
    job = client.jobs.run(built, job_dir=tmp_path / "job", poll_interval=0.01)
    results = list(job.results())
    assert [r.custom_id for r in results] == ["10", "11", "12"]
    assert all(r.ok and r.content for r in results)


@pytest.mark.parametrize("kind", ["parquet", "csv", "pandas", "polars", "datasets", "arrow"])
def test_a_column_the_prompt_names_and_the_table_lacks_is_one_error_at_once(kind: str, tmp_path: Path) -> None:
    built = sfr.from_rows(SOURCES[kind](tmp_path), prompt="Summarize: {txt}", model="m")
    with pytest.raises(sfr.RowError) as caught:
        next(iter(built))
    assert str(caught.value) == (
        "row 0: the prompt names column 'txt', which the rows do not have (columns: 'id', 'text', 'score')"
    )
    assert (caught.value.row, caught.value.column) == (0, "txt")
    assert isinstance(caught.value, sf.InputValidationError)


def test_a_dict_row_without_the_column_is_named_by_its_number() -> None:
    rows = [{"text": "a"}, {"text": "b"}, {"body": "c"}]
    built = iter(sfr.from_rows(rows, prompt="{text}", model="m"))
    assert next(built)["custom_id"] == "0"
    next(built)
    with pytest.raises(sfr.RowError, match=r"^row 2: the prompt names column 'text', which this row does not have"):
        next(built)


def test_an_id_column_that_is_missing_or_empty_names_the_row() -> None:
    with pytest.raises(sfr.RowError, match=r"^row 0: id_column names column 'key'"):
        list(sfr.from_rows(pd.DataFrame(ROWS), prompt="{text}", model="m", id_column="key"))
    rows = [{"k": "a", "t": "x"}, {"k": "", "t": "y"}]
    with pytest.raises(sfr.RowError, match=r"^row 1: the id column 'k' is empty"):
        list(sfr.from_rows(rows, prompt="{t}", model="m", id_column="k"))


@pytest.mark.parametrize(
    "frame",
    [
        pd.DataFrame({"t": ["a", None, "c"]}),
        pd.DataFrame({"t": [1.0, float("nan"), 2.0]}),
        pl.DataFrame({"t": ["a", None, "c"]}),
        [{"t": "a"}, {"t": None}],
    ],
    ids=["pandas-object", "pandas-float", "polars", "dicts"],
)
def test_a_null_that_the_prompt_needs_names_its_row(frame: object) -> None:
    with pytest.raises(sfr.RowError, match=r"^row 1: column 't' is null; the prompt needs a value$"):
        list(sfr.from_rows(frame, prompt="{t}", model="m"))


def test_integer_ids_with_nulls_beside_them_keep_their_digits() -> None:
    frame = pd.DataFrame({"id": [1, None, 3], "t": ["a", "b", "c"]}).dropna()
    assert [line["custom_id"] for line in sfr.from_rows(frame, prompt="{t}", model="m", id_column="id")] == ["1", "3"]


def test_the_template_formats_and_escapes_as_python_does() -> None:
    rows = [{"score": 0.123456, "name": "a.b", "a.b c": "dotted"}]
    built = sfr.from_rows(rows, prompt='{{"score": {score:.2f}}} {name!r} {a.b c}', model="m")
    assert next(iter(built))["body"]["messages"][0]["content"] == "{\"score\": 0.12} 'a.b' dotted"


@pytest.mark.parametrize("prompt", ["{}", "{0}", "oops {", "{a:{b}}"])
def test_a_template_that_names_no_column_is_refused(prompt: str) -> None:
    with pytest.raises(ValueError, match="prompt"):
        sfr.from_rows([], prompt=prompt, model="m")


def test_a_prompt_without_fields_still_makes_one_line_per_row(tmp_path: Path) -> None:
    lines = list(sfr.from_rows(_parquet(tmp_path), prompt="Say hi", model="m"))
    assert [line["custom_id"] for line in lines] == ["0", "1", "2"]


def test_arguments_that_cannot_work_are_refused_before_any_row_is_read() -> None:
    with pytest.raises(TypeError, match="messages cannot be a parameter"):
        sfr.from_rows([], prompt="{t}", model="m", messages=[])
    with pytest.raises(TypeError, match="model must be a non-empty string"):
        sfr.from_rows([], prompt="{t}", model="")
    with pytest.raises(TypeError, match="rows must be a path"):
        sfr.from_rows(42, prompt="{t}", model="m")
    with pytest.raises(sf.InputValidationError, match=r"must end in \.csv"):
        sfr.from_rows("rows.xlsx", prompt="{t}", model="m")


def test_a_generator_is_read_once_and_says_so() -> None:
    built = sfr.from_rows((r for r in ROWS), prompt="{text}", model="m")
    assert len(list(built)) == 3
    with pytest.raises(sf.InputValidationError, match="an iterator can be read once"):
        list(built)


def test_a_bad_jsonl_line_is_named(tmp_path: Path) -> None:
    path = tmp_path / "rows.jsonl"
    path.write_text('{"t": "a"}\n[1]\n')
    with pytest.raises(sfr.RowError, match=r"^row 1: line 2 of .* is not an object$"):
        list(sfr.from_rows(path, prompt="{t}", model="m"))


def test_a_parquet_file_is_streamed_by_record_batches(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    count, size = 4000, 2000
    path = tmp_path / "big.parquet"
    text = pa.array(["x" * size] * count)
    pq.write_table(pa.table({"text": text, "other": text}), path, row_group_size=500)
    monkeypatch.setattr(sfr, "BATCH_ROWS", 500)
    built = sfr.from_rows(path, prompt="{text}", model="m")
    tracemalloc.start()
    try:
        first = next(iter(built))
        seen = sum(1 for _ in built) + 0 * len(first)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert seen == count
    # The file's text is 16 MB (two columns); the unread column is never read and one batch is ~1 MB.
    assert peak < 6 * 1024 * 1024, peak


def _without(monkeypatch: pytest.MonkeyPatch, *modules: str) -> None:
    for name in list(sys.modules):
        if name.split(".")[0] in modules:
            monkeypatch.delitem(sys.modules, name)
    for name in modules:
        monkeypatch.setitem(sys.modules, name, None)  # import raises ImportError


def test_parquet_without_pyarrow_is_one_line_naming_the_extra(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _parquet(tmp_path)
    _without(monkeypatch, "pyarrow")
    with pytest.raises(sfr.MissingExtraError) as caught:
        list(sfr.from_rows(path, prompt="{text}", model="m"))
    assert str(caught.value) == (
        "reading Parquet needs pyarrow, which is not installed: pip install 'siliconflow-batch[data]'"
    )
    assert isinstance(caught.value, ImportError)


def test_csv_without_pyarrow_reads_the_same_lines(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = _csv(tmp_path)
    with_arrow = list(sfr.from_rows(path, prompt="{text} {score}", model="m", id_column="id"))
    _without(monkeypatch, "pyarrow")
    assert list(sfr.from_rows(path, prompt="{text} {score}", model="m", id_column="id")) == with_arrow


def test_importing_the_builder_imports_no_table_library() -> None:
    code = (
        "import sys, siliconflow_batch.requests, siliconflow_batch.tables; "
        "print(sorted(m for m in ('pyarrow', 'pandas', 'polars', 'datasets') if m in sys.modules))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


def _rows(n: int) -> Iterator[dict[str, Any]]:
    for i in range(n):
        yield {"text": f"t{i}"}


def test_rows_are_built_lazily_from_an_endless_iterator() -> None:
    def endless() -> Iterator[dict[str, Any]]:
        i = 0
        while True:
            yield {"text": f"t{i}"}
            i += 1

    built = iter(sfr.from_rows(endless(), prompt="{text}", model="m"))
    assert [next(built)["custom_id"] for _ in range(3)] == ["0", "1", "2"]


def test_a_column_of_arrays_is_checked_for_nulls_without_elementwise_trouble() -> None:
    import numpy as np

    frame = pd.DataFrame({"t": [np.array([1, 2]), np.array([3, 4])]})
    lines = list(sfr.from_rows(frame, prompt="{t}", model="m"))
    assert lines[1]["body"]["messages"][0]["content"] == "[3 4]"


def test_a_null_deep_in_a_batch_names_its_own_row(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sfr, "BATCH_ROWS", 4)
    frame = pl.DataFrame({"t": ["a"] * 6 + [None] + ["b"]})
    with pytest.raises(sfr.RowError, match=r"^row 6: column 't' is null"):
        list(sfr.from_rows(frame, prompt="{t}", model="m"))
    floats = pl.DataFrame({"t": [1.0, 2.0, float("nan")]})
    with pytest.raises(sfr.RowError, match=r"^row 2: column 't' is null"):
        list(sfr.from_rows(floats, prompt="{t}", model="m"))
