"""Request lines from rows: a table (CSV, JSONL, Parquet, a DataFrame, a Hugging Face dataset) and a prompt.

``from_rows(path_or_rows, prompt="Summarize: {text}", model=...)`` gives the request dicts that ``jobs.run``
takes, one per row, in the rows' order, built as they are read: a Parquet file is read a record batch at a time
and never held in memory. The same object reads the rows again (``rows()``) so that results can be put beside
their inputs (``siliconflow_batch.tables``). pyarrow is needed for Parquet only (and makes CSV faster); pandas,
polars and datasets are used when the rows are theirs, never imported otherwise.
"""

from __future__ import annotations

import csv
import json
import math
import os
from collections.abc import Iterable, Iterator, Mapping, Sequence
from pathlib import Path
from string import Formatter
from typing import Any

from ._exceptions import InputValidationError
from ._extras import MissingExtraError, require
from ._problem import Problem
from .structured import Schema
from .validation import CHAT_COMPLETIONS

__all__ = ["MissingExtraError", "RequestRows", "RowError", "from_rows"]

# Rows are read and built this many at a time: big enough that per-batch costs vanish, small enough that a
# batch of long texts stays a few MB.
BATCH_ROWS = 8192
PARQUET_SUFFIXES = (".parquet", ".pq")
CSV_SUFFIXES = (".csv", ".tsv")
JSONL_SUFFIXES = (".jsonl", ".ndjson")


class RowError(InputValidationError):
    """A row cannot become a request: the prompt names a column it lacks, a value is null, the id is empty.

    ``row`` counts from 0 (as the default custom_ids do); ``column`` is the column at fault. The message is one
    line naming both.
    """

    def __init__(self, row: int, column: str, message: str) -> None:
        super().__init__("rows", [Problem(column, message, row)])
        self.row: int = row
        self.column: str = column
        self.args = (f"row {row}: {message}",)

    def __str__(self) -> str:
        return str(self.args[0])


class _Template:
    """A prompt whose ``{fields}`` name columns, compiled once to a positional format string."""

    def __init__(self, text: str, what: str = "prompt") -> None:
        if not isinstance(text, str):
            raise TypeError(f"{what} must be a string, not {type(text).__name__}")
        parts: list[str] = []
        self.fields: list[str] = []
        try:
            parsed = list(Formatter().parse(text))
        except ValueError as exc:
            raise ValueError(
                f"{what} {text!r} is not a valid template ({exc}); write a literal brace as {{{{ or }}}}"
            ) from None
        for literal, field, spec, conversion in parsed:
            parts.append(literal.replace("{", "{{").replace("}", "}}"))
            if field is None:
                continue
            if field == "" or field.isdigit():
                raise ValueError(f"{what} {text!r}: every {{field}} must name a column, as in {{text}}")
            if spec and "{" in spec:
                raise ValueError(f"{what} {text!r}: a format spec cannot hold another {{field}}")
            if field not in self.fields:
                self.fields.append(field)
            index = self.fields.index(field)
            parts.append(
                "{" + str(index) + (f"!{conversion}" if conversion else "") + (f":{spec}" if spec else "") + "}"
            )
        self.format = "".join(parts).format


def _is_path(source: object) -> bool:
    return isinstance(source, str | os.PathLike)


def _kind(source: object) -> str:
    """What the rows are: parquet, csv, jsonl, pandas, polars, datasets, arrow or dicts."""
    if _is_path(source):
        suffix = Path(os.fspath(source)).suffix.lower()  # type: ignore[call-overload]
        for kind, suffixes in (("parquet", PARQUET_SUFFIXES), ("csv", CSV_SUFFIXES), ("jsonl", JSONL_SUFFIXES)):
            if suffix in suffixes:
                return kind
        raise InputValidationError(
            f"cannot read rows from {source}",
            [Problem("file", f"the name must end in .csv, .tsv, .jsonl, .ndjson or .parquet, not {suffix!r}")],
        )
    module = type(source).__module__.split(".", 1)[0]
    if module in ("pandas", "polars", "datasets") and hasattr(source, "columns" if module != "datasets" else "iter"):
        return module
    if module == "pyarrow" and hasattr(source, "to_batches"):
        return "arrow"
    if isinstance(source, str | bytes | Mapping) or not isinstance(source, Iterable):
        raise TypeError(
            "rows must be a path (.csv, .jsonl, .parquet), a DataFrame, a Dataset or an iterable of dicts, "
            f"not {type(source).__name__}"
        )
    return "dicts"


def _null(value: object) -> bool:
    return value is None or (type(value) is float and math.isnan(value))


def _custom_id(value: object, row: int, column: str) -> str:
    if type(value) is str:
        if value:
            return value
    elif type(value) is int:
        return str(value)
    elif type(value) is float and value.is_integer():  # an int column with nulls, as pandas holds it
        return str(int(value))
    elif not _null(value) and not isinstance(value, bool):
        text = str(value)
        if text:
            return text
    raise RowError(row, column, f"the id column {column!r} is empty; every row needs an id")


class RequestRows:
    """The request lines built from rows, one dict per row in the rows' order; iterate it to build them.

    Made by :func:`from_rows`. A file, a DataFrame, a Dataset or a list is read again on every iteration (and
    by :meth:`rows`), so a job can spool it and a table writer join its results to the same rows later; a
    one-shot iterator (a generator) can be read once.
    """

    def __init__(
        self,
        source: object,
        *,
        prompt: str,
        model: str,
        system: str | None = None,
        id_column: str | None = None,
        params: Mapping[str, Any] | None = None,
        schema: object = None,
    ) -> None:
        if not isinstance(model, str) or not model:
            raise TypeError("model must be a non-empty string, such as 'deepseek-ai/DeepSeek-V3'")
        if system is not None and not isinstance(system, str):
            raise TypeError(f"system must be a string, not {type(system).__name__}")
        if id_column is not None and not isinstance(id_column, str):
            raise TypeError(f"id_column must be a column name, not {type(id_column).__name__}")
        self.params: dict[str, Any] = dict(params or {})
        clash = sorted({"model", "messages"} & set(self.params))
        if clash:
            raise TypeError(
                f"{', '.join(clash)} cannot be a parameter: model is its own argument, the prompt makes the messages"
            )
        self.source: Any = source
        self.kind: str = _kind(source)
        self._path = os.fspath(source) if isinstance(source, str | os.PathLike) else ""
        self._delimiter = "\t" if self._path.lower().endswith(".tsv") else ","
        self.prompt: str = prompt
        self.model: str = model
        self.system: str | None = system
        self.id_column: str | None = id_column
        self._template = _Template(prompt)
        self._used = False
        self.schema: Schema | None = None
        """The schema every reply must fit (``from_rows(..., schema=...)``); None for plain text replies."""
        self._system = system
        if schema is not None:
            if "response_format" in self.params:
                raise TypeError("response_format cannot be a parameter with a schema: the schema sets it")
            self.schema = Schema.of(schema)
            self.params["response_format"] = self.schema.response_format
            instruction = self.schema.instruction
            self._system = instruction if system is None else f"{system}\n\n{instruction}"

    def with_schema(self, schema: object) -> RequestRows:
        """The same rows and prompt, with requests asking for replies that fit ``schema`` (see :func:`from_rows`)."""
        params = {k: v for k, v in self.params.items() if k != "response_format" or self.schema is None}
        return RequestRows(
            self.source, prompt=self.prompt, model=self.model, system=self.system, id_column=self.id_column,
            params=params, schema=schema,
        )  # fmt: skip

    # --- reading -----------------------------------------------------------------------------------------

    def _once(self) -> None:
        if self.kind == "dicts" and iter(self.source) is self.source:
            if self._used:
                raise InputValidationError(
                    "cannot read the rows again",
                    [Problem("rows", "an iterator can be read once; give a list, a DataFrame or a file")],
                )
            self._used = True

    @property
    def columns(self) -> list[str] | None:
        """The rows' column names, read from the file's header or the frame; None for dicts (keys may vary)."""
        kind, source = self.kind, self.source
        if kind == "parquet":
            pq = require("pyarrow.parquet", "reading Parquet")
            return list(pq.ParquetFile(self._path).schema_arrow.names)
        if kind == "csv":
            with open(self._path, newline="", encoding="utf-8-sig") as handle:
                return next(csv.reader(handle, delimiter=self._delimiter), [])
        if kind in ("pandas", "polars"):
            return [str(c) for c in source.columns]
        if kind == "datasets":
            return list(source.column_names)
        if kind == "arrow":
            return list(source.schema.names)
        return None

    def _columnar(self, columns: Sequence[str] | None) -> Iterator[tuple[int, dict[str, list[Any]]]]:
        """(first row's index, {column: values}) per batch of a tabular source; ``columns=None``: all of them."""
        kind, source = self.kind, self.source
        start = 0
        for chunk in self._arrow_free_chunks(kind, source, columns):
            yield start, chunk
            start += len(next(iter(chunk.values()))) if chunk else 0

    def _arrow_free_chunks(
        self, kind: str, source: Any, columns: Sequence[str] | None
    ) -> Iterator[dict[str, list[Any]]]:
        if kind in ("parquet", "arrow") or (kind == "csv" and _has_pyarrow()):
            for batch in self._arrow_batches(columns):
                yield {name: batch.column(i).to_pylist() for i, name in enumerate(batch.schema.names)}
        elif kind == "csv":
            yield from self._csv_chunks(columns)
        elif kind == "pandas":
            names = list(source.columns)
            wanted = [names[[str(n) for n in names].index(c)] for c in columns] if columns is not None else names
            for begin in range(0, len(source), BATCH_ROWS):
                part = source.iloc[begin : begin + BATCH_ROWS]
                chunk = {}
                for name in wanted:
                    series = part[name]
                    if series.hasnans:
                        series = series.astype(object).where(series.notna(), None)
                    chunk[str(name)] = series.tolist()
                yield chunk
        elif kind == "polars":
            for part in source.iter_slices(BATCH_ROWS):
                yield {name: part.get_column(name).to_list() for name in (columns or part.columns)}
        elif kind == "datasets":
            data = source.select_columns(list(columns)) if columns is not None else source
            yield from data.iter(batch_size=BATCH_ROWS)

    def _csv_chunks(self, columns: Sequence[str] | None) -> Iterator[dict[str, list[Any]]]:
        with open(self._path, newline="", encoding="utf-8-sig") as handle:
            reader = csv.reader(handle, delimiter=self._delimiter)
            header = next(reader, [])
            wanted = list(columns) if columns is not None else header
            positions = [header.index(c) for c in wanted]
            while True:
                rows = [row for _, row in zip(range(BATCH_ROWS), reader, strict=False)]
                if not rows:
                    return
                yield {
                    name: [row[p] if p < len(row) else None for row in rows]
                    for name, p in zip(wanted, positions, strict=True)
                }

    def _arrow_batches(self, columns: Sequence[str] | None = None) -> Iterator[Any]:
        """The rows as pyarrow RecordBatches (of up to BATCH_ROWS rows), only ``columns`` when given."""
        kind, source = self.kind, self.source
        what = "reading Parquet" if kind == "parquet" else "a table of the rows"
        pa = require("pyarrow", what)
        if kind == "parquet":
            pq = require("pyarrow.parquet", what)
            handle = pq.ParquetFile(os.fspath(source))
            yield from handle.iter_batches(
                batch_size=BATCH_ROWS, columns=list(columns) if columns is not None else None
            )
        elif kind == "csv":
            yield from self._arrow_csv(pa, columns)
        elif kind == "arrow":
            table = source if columns is None else source.select(list(columns))
            yield from table.to_batches(max_chunksize=BATCH_ROWS)
        elif kind == "pandas":
            frame = source if columns is None else source[list(columns)]
            # One schema for the whole frame: a batch whose object column is all None must not read as null.
            schema = pa.Schema.from_pandas(frame, preserve_index=False).remove_metadata()
            for begin in range(0, len(frame), BATCH_ROWS):
                part = frame.iloc[begin : begin + BATCH_ROWS]
                yield pa.RecordBatch.from_pandas(part, schema=schema, preserve_index=False)
        elif kind == "polars":
            for part in source.iter_slices(BATCH_ROWS):
                table = (part if columns is None else part.select(list(columns))).to_arrow()
                yield from table.combine_chunks().to_batches()
        elif kind == "datasets":
            data = source.select_columns(list(columns)) if columns is not None else source
            for table in data.with_format("arrow").iter(batch_size=BATCH_ROWS):
                yield from table.combine_chunks().to_batches()
        else:
            yield from self._arrow_from_dicts(pa, columns)

    def _arrow_csv(self, pa: Any, columns: Sequence[str] | None) -> Iterator[Any]:
        pacsv = require("pyarrow.csv", "reading CSV")
        names = self.columns or []
        reader = pacsv.open_csv(
            self._path,
            read_options=pacsv.ReadOptions(block_size=1 << 22),
            parse_options=pacsv.ParseOptions(delimiter=self._delimiter, newlines_in_values=True),
            # Every column as text, as the file has it (a prompt gets "1.50", not 1.5).
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                include_columns=list(columns) if columns is not None else None,
            ),
        )
        while True:
            try:
                batch = reader.read_next_batch()
            except StopIteration:
                return
            except pa.ArrowInvalid as exc:
                raise InputValidationError(f"cannot read {self.source}", [Problem("csv", str(exc))]) from exc
            if batch.num_rows:
                yield batch

    def _arrow_from_dicts(self, pa: Any, columns: Sequence[str] | None) -> Iterator[Any]:
        schema = None
        for start, chunk in _chunks(self._dict_rows()):
            if columns is not None:
                chunk = [{c: row.get(c) for c in columns} for row in chunk]
            try:
                if schema is None:
                    table = pa.Table.from_pylist(chunk)
                    schema = table.schema
                else:
                    table = pa.Table.from_pylist(chunk, schema=schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise RowError(start, "", f"the rows from here on do not fit one table ({exc})") from exc
            yield from table.combine_chunks().to_batches()

    def _dict_rows(self) -> Iterator[Mapping[str, Any]]:
        kind = self.kind
        if kind == "jsonl":
            with open(self._path, "rb") as handle:
                index = 0
                for number, raw in enumerate(handle, 1):
                    if not raw.strip():
                        continue
                    try:
                        row = json.loads(raw)
                    except ValueError as exc:
                        raise RowError(index, "", f"line {number} of {self.source} is not valid JSON ({exc})") from exc
                    if not isinstance(row, dict):
                        raise RowError(index, "", f"line {number} of {self.source} is not an object")
                    index += 1
                    yield row
            return
        for index, row in enumerate(self.source):
            if not isinstance(row, Mapping):
                raise RowError(index, "", f"a row must be a dict, not {type(row).__name__}")
            yield row

    def rows(self) -> Iterator[dict[str, Any]]:
        """The input rows again, as dicts, in the same order as the requests (a fresh read of the source)."""
        self._once()
        if self.kind in ("jsonl", "dicts"):
            for row in self._dict_rows():
                yield dict(row)
            return
        for _, chunk in self._columnar(None):
            names = list(chunk)
            for values in zip(*chunk.values(), strict=True):
                yield dict(zip(names, values, strict=True))

    # --- building ----------------------------------------------------------------------------------------

    def __iter__(self) -> Iterator[dict[str, Any]]:
        self._once()
        if self.kind in ("jsonl", "dicts"):
            return self._from_dicts()
        return self._from_columns()

    def _line(self, custom_id: str, text: str) -> dict[str, Any]:
        messages = [{"role": "user", "content": text}]
        if self._system is not None:
            messages.insert(0, {"role": "system", "content": self._system})
        return {
            "custom_id": custom_id,
            "method": "POST",
            "url": CHAT_COMPLETIONS,
            "body": {"model": self.model, "messages": messages, **self.params},
        }

    def _missing(self, row: int, column: str, have: Iterable[str], role: str = "the prompt names") -> RowError:
        shown = ", ".join(repr(str(c)) for c in list(have)[:20]) or "none"
        which = "the rows do" if self.columns is not None else "this row does"
        return RowError(row, column, f"{role} column {column!r}, which {which} not have (columns: {shown})")

    def _from_columns(self) -> Iterator[dict[str, Any]]:
        fields, id_column, render = self._template.fields, self.id_column, self._template.format
        have = self.columns or []
        for name in [*fields, *([id_column] if id_column else [])]:
            if name not in have:
                raise self._missing(0, name, have, "the prompt names" if name in fields else "id_column names")
        # A prompt that names no column still needs one column, to count the rows.
        wanted = list(dict.fromkeys([*fields, *([id_column] if id_column else [])])) or have[:1]
        model, system, params, url = self.model, self._system, self.params, CHAT_COMPLETIONS
        for start, chunk in self._columnar(wanted):
            values = [chunk[name] for name in fields]
            count = len(chunk[wanted[0]]) if wanted else 0
            for name, column in zip(fields, values, strict=True):  # nulls, checked a column at a time
                _check_nulls(column, name, start)
            if id_column is None:
                ids: Sequence[str] = [str(row) for row in range(start, start + count)]
            else:
                ids = chunk[id_column]
                if set(map(type, ids)) != {str} or "" in ids:
                    ids = [_custom_id(value, start + i, id_column) for i, value in enumerate(ids)]
            texts = map(render, *values) if values else [render()] * count
            if system is None:
                for custom_id, text in zip(ids, texts, strict=True):
                    yield {
                        "custom_id": custom_id,
                        "method": "POST",
                        "url": url,
                        "body": {"model": model, "messages": [{"role": "user", "content": text}], **params},
                    }
            else:
                for custom_id, text in zip(ids, texts, strict=True):
                    messages = [{"role": "system", "content": system}, {"role": "user", "content": text}]
                    yield {
                        "custom_id": custom_id,
                        "method": "POST",
                        "url": url,
                        "body": {"model": model, "messages": messages, **params},
                    }

    def _from_dicts(self) -> Iterator[dict[str, Any]]:
        fields, id_column, render, line = self._template.fields, self.id_column, self._template.format, self._line
        for row, item in enumerate(self._dict_rows()):
            try:
                cells = [item[name] for name in fields]
            except KeyError as exc:
                raise self._missing(row, str(exc.args[0]), item) from None
            for name, cell in zip(fields, cells, strict=True):
                if _null(cell):
                    raise RowError(row, name, f"column {name!r} is null; the prompt needs a value")
            if id_column is None:
                custom_id = str(row)
            elif id_column in item:
                custom_id = _custom_id(item[id_column], row, id_column)
            else:
                raise self._missing(row, id_column, item, "id_column names")
            yield line(custom_id, render(*cells))

    def custom_ids(self) -> Iterator[str]:
        """The custom_id of each row, in order, as the requests carry them (a fresh read of the source)."""
        for line in self:
            yield line["custom_id"]

    def input_batches(self) -> Iterator[tuple[Any, list[str]]]:
        """(RecordBatch of the input's columns, the custom_ids of its rows) per batch: what a table joins."""
        id_column = self.id_column
        start = 0
        for batch in self._arrow_batches():
            if id_column is None:
                ids = [str(i) for i in range(start, start + batch.num_rows)]
            elif id_column in batch.schema.names:
                values = batch.column(batch.schema.get_field_index(id_column)).to_pylist()
                ids = [_custom_id(v, start + i, id_column) for i, v in enumerate(values)]
            else:
                raise self._missing(start, id_column, batch.schema.names, "id_column names")
            start += batch.num_rows
            yield batch, ids

    def input_schema(self) -> Any:
        """The pyarrow schema of the input's columns, also when there are no rows (empty for dicts then)."""
        pa = require("pyarrow", "a table of the rows")
        for batch in self._arrow_batches():
            return batch.schema.remove_metadata()
        kind, source = self.kind, self.source
        if kind == "parquet":
            return require("pyarrow.parquet", "reading Parquet").ParquetFile(self._path).schema_arrow
        if kind == "pandas":
            return pa.Schema.from_pandas(source, preserve_index=False).remove_metadata()
        if kind == "polars":
            return source.head(0).to_arrow().schema
        if kind == "datasets":
            return source.features.arrow_schema
        if kind == "arrow":
            return source.schema
        return pa.schema([(name, pa.string()) for name in self.columns or []])

    def __repr__(self) -> str:
        return f"RequestRows({self.kind}, prompt={self.prompt!r}, model={self.model!r})"


def _check_nulls(column: list[Any], name: str, start: int) -> None:
    """RowError at the first null (None, or a float NaN) of a column the prompt needs."""
    try:
        found = None in column or (float in set(map(type, column)) and any(_null(v) for v in column))
    except (TypeError, ValueError):  # a value whose == is elementwise (a numpy array in an object column)
        found = any(_null(v) for v in column)
    if found:
        row = start + next(i for i, v in enumerate(column) if _null(v))
        raise RowError(row, name, f"column {name!r} is null; the prompt needs a value")


def _has_pyarrow() -> bool:
    try:
        import pyarrow.csv  # noqa: F401
    except ImportError:
        return False
    return True


def _chunks(rows: Iterable[Mapping[str, Any]]) -> Iterator[tuple[int, list[Mapping[str, Any]]]]:
    chunk: list[Mapping[str, Any]] = []
    start = 0
    for row in rows:
        chunk.append(row)
        if len(chunk) >= BATCH_ROWS:
            yield start, chunk
            start += len(chunk)
            chunk = []
    if chunk:
        yield start, chunk


def from_rows(
    rows: object,
    *,
    prompt: str,
    model: str,
    system: str | None = None,
    id_column: str | None = None,
    schema: object = None,
    **params: Any,
) -> RequestRows:
    """Chat-completion request lines, one per row, ready for ``jobs.run``: ``prompt`` with each row's values.

    ``rows`` is a path to a .csv (.tsv), .jsonl or .parquet file, a pandas or polars DataFrame, a pyarrow
    Table, a Hugging Face ``Dataset``, or any iterable of dicts. ``prompt`` names columns as ``{field}``
    (``{{`` for a literal brace; a format spec such as ``{score:.2f}`` applies); ``system``, when given, is sent
    as it is before it. ``custom_id`` is the ``id_column``'s value, or the row's number counting from 0.
    ``params`` go into every body beside the model and messages (``max_tokens=256``, ``temperature=0``, ...).
    ``schema`` (a JSON Schema dict, or a pydantic model class when pydantic is installed) asks every reply for
    JSON that fits it: SiliconFlow documents only JSON mode, so each body gets ``response_format={"type":
    "json_object"}`` and the system prompt states the schema; ``jobs.run`` takes the schema from the rows and
    gives each result ``parsed`` or ``parse_error``, validated on the client (:mod:`siliconflow_batch.structured`).

    A column that the prompt (or ``id_column``) names and a row lacks, a null value the prompt needs, or an
    empty id raise :class:`RowError` naming the column and the row, when that row is reached (at once for a
    table's header). A file is read a batch at a time, never whole; Parquet needs pyarrow
    (``pip install 'siliconflow-batch[data]'``).
    """
    return RequestRows(
        rows, prompt=prompt, model=model, system=system, id_column=id_column, params=params, schema=schema
    )
