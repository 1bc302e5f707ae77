"""Results as a table: Arrow, Parquet, CSV or pandas, one row per request, beside the input's own columns.

``write_parquet(job.results(), "out.parquet", rows=from_rows(...))`` writes, in the results' order, the input
row's columns (when ``rows`` is given), then ``custom_id``, ``ok``, ``content``, ``reasoning_content``,
``finish_reason``, the token counts, ``error_message`` and ``attempts``; given a ``schema`` (a job with one
passes its own), the top-level fields of each parsed reply as columns, then ``parse_error``. Files are written
a record batch at a time (constant memory) and atomically: the destination is whole or as it was. Needs pyarrow
(``pip install 'siliconflow-batch[data]'``); pandas for ``to_pandas``.
"""

from __future__ import annotations

import json
import os
import re
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from itertools import islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import Any, TypedDict, Unpack

from ._atomic import atomic_write, check_destination
from ._exceptions import InputValidationError
from ._extras import MissingExtraError, require
from ._problem import Problem
from ._records import BatchResult, result_fields
from .structured import Schema

__all__ = [
    "RESULT_COLUMNS",
    "MissingExtraError",
    "TableOptions",
    "record_batches",
    "result_schema",
    "to_arrow",
    "to_pandas",
    "write_csv",
    "write_parquet",
    "write_table",
]

RESULT_COLUMNS = (
    "custom_id",
    "ok",
    "content",
    "reasoning_content",
    "finish_reason",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "error_message",
    "attempts",
)
"""The columns every results table has, in order, after the input's own."""

# Results are turned into columns this many at a time: each batch is a Parquet row group.
BATCH_RESULTS = 16_384
# An input column whose name is one of RESULT_COLUMNS gets this prefix, so that both are kept.
INPUT_PREFIX = "input_"
TABLE_SUFFIXES = (".parquet", ".pq", ".csv")  # the names write_table writes: Parquet, then CSV


def _pyarrow(what: str) -> Any:
    return require("pyarrow", what)


def result_schema() -> Any:
    """The pyarrow schema of the result columns (``RESULT_COLUMNS``), without the input's."""
    pa = _pyarrow("a results table")
    text, count = pa.string(), pa.int64()
    types = [text, pa.bool_(), text, text, text, count, count, count, text, count]
    return pa.schema(
        [
            pa.field(name, kind, nullable=name not in ("custom_id", "ok", "attempts"))
            for name, kind in zip(RESULT_COLUMNS, types, strict=True)
        ]
    )


PARSED_PREFIX = "parsed_"  # a schema field named like a result or input column gets this prefix
PARSE_ERROR = "parse_error"


class _Parsed:
    """The columns of a schema's top-level fields (typed where the field is one simple type), and parse_error."""

    def __init__(self, pa: Any, schema: Schema, taken: set[str]) -> None:
        self.schema = schema
        self.fields = schema.properties
        kinds = {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}
        self.kinds = [schema.property_type(name) for name in self.fields]
        self.types = [kinds.get(kind or "", pa.string()) for kind in self.kinds]
        taken = taken | set(RESULT_COLUMNS) | {PARSE_ERROR}
        names = [PARSED_PREFIX + name if name in taken else name for name in self.fields]
        self.arrow_fields = [pa.field(n, t) for n, t in zip(names, self.types, strict=True)]
        self.arrow_fields.append(pa.field(PARSE_ERROR, pa.string()))

    def arrays(self, pa: Any, outcomes: list[tuple[Any, str | None]]) -> list[Any]:
        columns: list[list[Any]] = [[] for _ in self.fields]
        errors: list[str | None] = []
        for parsed, error in outcomes:
            errors.append(error)
            if parsed is not None and not isinstance(parsed, dict):
                dump = getattr(parsed, "model_dump", None)
                parsed = dump(mode="json", by_alias=True) if callable(dump) else None
            for column, name, kind in zip(columns, self.fields, self.kinds, strict=True):
                column.append(_cell(parsed.get(name) if parsed is not None else None, kind))
        found = [_array(pa, values, kind) for values, kind in zip(columns, self.types, strict=True)]
        return [*found, _array(pa, errors, pa.string())]


def _outcomes(schema: Schema, chunk: Iterable[BatchResult]) -> list[tuple[Any, str | None]]:
    """``(parsed, parse_error)`` of each result: as it came, or checked against the schema when not parsed."""
    check = schema.check
    found = []
    for result in chunk:
        parsed, error = result.parsed, result.parse_error
        found.append(check(result) if parsed is None and error is None else (parsed, error))
    return found


def _cell(value: Any, kind: str | None) -> Any:
    """A parsed field's value as its column holds it: as it is for a simple type, else its JSON text."""
    if value is None:
        return None
    if kind == "integer" and type(value) is float:
        return int(value)
    if kind in ("string", "integer", "number", "boolean"):
        return value
    return json.dumps(value, ensure_ascii=False)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _array(pa: Any, values: Any, kind: Any) -> Any:
    """``pa.array(values, type=kind)``, where a string's lone surrogate becomes U+FFFD.

    json.loads reads one from its escape (a reply cut inside a pair); UTF-8, and so Arrow, holds no such character.
    """
    try:
        return pa.array(values, type=kind)
    except UnicodeEncodeError:
        return pa.array([_SURROGATE.sub("\ufffd", v) if isinstance(v, str) else v for v in values], type=kind)


def _result_arrays(pa: Any, schema: Any, chunk: list[BatchResult], ids: list[str]) -> list[Any]:
    # One pass per result, then columns by transposing (zip runs in C).
    ok, content, reasoning, finish, prompt, completion, total, errors = zip(*map(result_fields, chunk), strict=True)
    attempts = [result[6] for result in chunk]
    columns = (ids, ok, content, reasoning, finish, prompt, completion, total, errors, attempts)
    return [_array(pa, values, field.type) for values, field in zip(columns, schema, strict=True)]


# A batch of results as columns: its custom_ids, the result columns, and the (parsed, parse_error) of each result
# when a schema is asked for (else an empty list).
_Batch = tuple[Sequence[str], list[Any], list[tuple[Any, str | None]]]


def _result_batches(
    pa: Any, schema: Any, results: Iterable[BatchResult], batch_size: int, wanted: Schema | None
) -> Iterator[_Batch]:
    """The :data:`_Batch` of each ``batch_size`` BatchResults."""
    iterator = iter(results)
    while chunk := list(islice(iterator, batch_size)):
        ids = [result[0] for result in chunk]
        yield ids, _result_arrays(pa, schema, chunk, ids), _outcomes(wanted, chunk) if wanted is not None else []


class ResultLines:
    """Results still as their lines, as a job's ledger keeps them: the table writers read them in bulk, in C++.

    ``items`` gives, per request in input order, ``(custom_id, attempts, line, item)``: ``line`` is the bytes of
    the output-file line that decided the request (None when there is none, or it is not a plain output line),
    and ``result(item)`` makes its BatchResult. A batch of lines is parsed by pyarrow's JSON reader; a line
    that does not read as a successful chat completion, and a whole batch the reader refuses (a field of an
    unexpected type), take the BatchResult path instead, so the table is the same either way. Iterating gives
    the BatchResults, so that anything taking results takes this (once).
    """

    def __init__(self, items: Iterable[tuple[str, int, bytes | None, Any]], result: Any) -> None:
        self.items = items
        self.result: Any = result

    def __iter__(self) -> Iterator[BatchResult]:
        result = self.result
        return (result(item[3]) for item in self.items)


_BOM = b"\xef\xbb\xbf"
_LINE_SCHEMA: Any = None
# The JSON reader's block: a batch's lines are one block (its own threads are off: the batches are read in threads
# of their own), so that its columns come in one chunk, not to be concatenated.
_LINE_BLOCK_MAX = 1 << 30


def _line_schema(pa: Any) -> Any:
    """The fields of an output line the result columns need; the reader skips all others."""
    global _LINE_SCHEMA
    if _LINE_SCHEMA is None:
        text, count = pa.string(), pa.int64()
        message = pa.struct([("content", text), ("reasoning_content", text), ("reasoning", text)])
        choice = pa.struct([("message", message), ("finish_reason", text)])
        usage = pa.struct([("prompt_tokens", count), ("completion_tokens", count), ("total_tokens", count)])
        body = pa.struct([("choices", pa.list_(choice)), ("usage", usage)])
        response = pa.struct([("status_code", count), ("body", body)])
        _LINE_SCHEMA = pa.schema([("response", response), ("error", pa.struct([]))])
    return _LINE_SCHEMA


def _read_lines(pa: Any, lines: Sequence[bytes]) -> tuple[list[Any], Any] | None:
    """The columns ``(content, reasoning_content, finish_reason, prompt, completion, total)`` of the lines.

    With them, which lines are plain successes (a 2xx, no error, usage whole or absent), for which the columns
    are what :func:`result_fields` gives: None when all are, else a mask (false or null where a line is not).
    None for the whole when the reader refuses the lines (a field of another type).

    Few pyarrow calls (each lets go of the GIL and takes it again, which costs a wait while another thread
    runs Python): each struct is split into its fields at once, and the usual batch is known to be all plain
    successes from a few aggregates; only another batch has the mask worked out.
    """
    json, pc = require("pyarrow.json", "a results table"), require("pyarrow.compute", "a results table")
    data = b"\n".join(lines)
    try:
        table = json.read_json(
            pa.py_buffer(data),
            read_options=json.ReadOptions(block_size=min(len(data) + 1, _LINE_BLOCK_MAX), use_threads=False),
            parse_options=json.ParseOptions(explicit_schema=_line_schema(pa), unexpected_field_behavior="ignore"),
        )
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return None
    n = len(lines)
    if table.num_rows != n or not table.schema.equals(_line_schema(pa)):  # pragma: no cover - one object a line
        return None
    # A struct's fields as its schema orders them, null where the struct is (StructArray.flatten).
    status, body = _one(table.column("response")).flatten()
    choices, usage = body.flatten()
    counts = usage.flatten()
    if choices.null_count == 0 and pc.min_max(pc.list_value_length(choices)).as_py() == {"min": 1, "max": 1}:
        choice = choices.flatten()  # one choice a line (the usual): the choices' values are the first choices
    else:  # the value at each list's start, null where the list is null or empty
        starts = choices.offsets.slice(0, n)
        has = pc.greater(pc.list_value_length(choices), 0)
        choice = choices.values.take(pc.if_else(has, starts, pa.scalar(None, starts.type)))
    message, finish = choice.flatten()
    content, reasoning, other = message.flatten()
    if other.null_count < n:  # "reasoning", where "reasoning_content" is not given
        reasoning = pc.coalesce(reasoning, other)
    columns = [content, reasoning, finish, *counts]
    error = _one(table.column("error"))
    # Usage whole or absent: a count is null only where the usage is (a count null or absent in a usage the slow
    # path reads as 0, or the sum for a total), and none is negative (no count, ``_records.token_count``: 0).
    least = pc.min_max(pc.min_element_wise(*counts)).as_py()["min"]
    codes = pc.min_max(status).as_py()
    if (
        error.null_count == n
        and status.null_count == 0
        and 200 <= codes["min"] <= codes["max"] < 300
        and all(count.null_count == usage.null_count for count in counts)
        and (least is None or least >= 0)
    ):
        return columns, None
    whole = pc.or_kleene(usage.is_null(), pc.greater_equal(pc.min_element_wise(*counts, skip_nulls=False), 0))
    plain = pc.and_kleene(pc.greater_equal(status, 200), pc.less(status, 300))
    return columns, pc.and_kleene(pc.and_kleene(error.is_null(), plain), whole)


def _one(column: Any) -> Any:
    """A chunked column as one array (without a copy when it is one chunk)."""
    return column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()


def _line_arrays(
    pa: Any, schema: Any, items: tuple[list[Any], ...], make: Any, wanted: Schema | None
) -> tuple[list[Any], list[tuple[Any, str | None]]]:
    """:func:`_result_arrays` of a batch of :class:`ResultLines` items, and the parsed outcomes when asked.

    ``items`` is the batch by column: the custom_ids, the attempts, the lines and what ``make`` takes.
    """
    ids, attempts, lines, made_from = items
    n = len(ids)
    fast: list[int] | range = range(n)
    if None in lines:  # else every line is read
        fast = [i for i, line in enumerate(lines) if line is not None]
        lines = [lines[i] for i in fast]
    read = _read_lines(pa, lines) if lines else None
    if read is None and any(map(bytes.startswith, lines, repeat(_BOM))):
        # The reader takes a byte order mark only at its buffer's start: looked for once it refused the lines (a
        # scan of every line costs as much as a tenth of the reading), and the lines with one left to the slow path.
        kept = [k for k, line in enumerate(lines) if not line.startswith(_BOM)]
        fast, lines = [fast[k] for k in kept], [lines[k] for k in kept]
        read = _read_lines(pa, lines) if lines else None
    if read is None:
        fast = []
        columns: list[Any] = []
    else:
        columns, good = read
        if good is not None and not _all(good):
            fast = [i for i, ok in zip(fast, good.to_pylist(), strict=True) if ok]
            columns = [column.filter(good) for column in columns]
    slow = [] if len(fast) == n else sorted(set(range(n)).difference(fast))
    results = [make(made_from[i]) for i in slow]
    fields = [result_fields(result) for result in results]
    names = ("content", "reasoning_content", "finish_reason", "prompt_tokens", "completion_tokens", "total_tokens")
    types = {f.name: f.type for f in schema}
    if not fast:
        columns = [_array(pa, [], types[name]) for name in names]
    columns = [c if c.type == types[name] else c.cast(types[name]) for name, c in zip(names, columns, strict=True)]
    if fields:  # the slow rows after the fast ones
        ok = pa.concat_arrays([pa.repeat(True, len(fast)), _array(pa, [f[0] for f in fields], pa.bool_())])
        errors = pa.concat_arrays([pa.nulls(len(fast), pa.string()), _array(pa, [f[7] for f in fields], pa.string())])
        merged = [
            pa.concat_arrays([column, _array(pa, [f[k] for f in fields], column.type)])
            for k, column in enumerate(columns, 1)
        ]
    else:  # every line read in bulk: its columns as they are, not copied by a concat
        ok, errors, merged = pa.repeat(True, n), pa.nulls(n, pa.string()), columns
    found = [ok, *merged, errors]
    outcomes: list[tuple[Any, str | None]] = []
    if wanted is not None:
        check = wanted.check_reply
        content, reasoning, finish = (column.to_pylist() for column in columns[:3])
        outcomes = [check(c, f, r) for c, r, f in zip(content, reasoning, finish, strict=True)]
        outcomes += _outcomes(wanted, results)
    if slow:  # back to the input's order: the fast rows came first, then the slow ones
        order = [0] * n
        for k, i in enumerate(fast):
            order[i] = k
        for k, i in enumerate(slow, len(fast)):
            order[i] = k
        indices = _array(pa, order, pa.int64())
        found = [column.take(indices) for column in found]
        if outcomes:
            outcomes = [outcomes[k] for k in order]
    return [_array(pa, ids, pa.string()), *found, _array(pa, attempts, pa.int64())], outcomes


_AHEAD = 2  # batches of lines read at once, each in a thread, while the batch before them is written


def _read_ahead(
    pa: Any, schema: Any, items: Iterator[Any], batch_size: int, make: Any, wanted: Schema | None
) -> Iterator[_Batch]:
    """The :data:`_Batch` of each ``batch_size`` :class:`ResultLines` items, in order, read ahead.

    pyarrow's reader and writer let go of the GIL: while a batch is written (or taken by the caller), the next
    ones are read in threads, so a second core reads as the first writes. At most ``_AHEAD`` batches are read
    ahead of the one given (bounded memory). The items are taken in the caller's thread, as they come, and
    handed to the readers by column.
    """
    from concurrent.futures import Future, ThreadPoolExecutor

    pending: deque[tuple[list[str], Future[tuple[list[Any], list[tuple[Any, str | None]]]]]] = deque()
    with ThreadPoolExecutor(_AHEAD, thread_name_prefix="siliconflow-batch-lines") as pool:
        try:
            exhausted = False
            while True:
                while not exhausted and len(pending) < _AHEAD:
                    chunk = list(islice(items, batch_size))
                    if not chunk:
                        exhausted = True
                        break
                    # By column, in C (not by zip(*chunk), which makes an iterator an item for the GC to scan).
                    columns = tuple(list(map(itemgetter(k), chunk)) for k in range(4))
                    pending.append((columns[0], pool.submit(_line_arrays, pa, schema, columns, make, wanted)))
                if not pending:
                    return
                ids, future = pending.popleft()
                arrays, outcomes = future.result()
                yield ids, arrays, outcomes
        finally:
            for _, future in pending:  # closed early, or a batch failed: read nothing more
                future.cancel()


def _all(mask: Any) -> bool:
    """True when every value of a boolean array is true."""
    return bool(mask.null_count == 0 and require("pyarrow.compute", "a results table").all(mask).as_py())


class _Rows:
    """The input rows cut to the results' batches: (pyarrow columns, their custom_ids or None) per take."""

    def __init__(self, pa: Any, rows: object) -> None:
        from .requests import RequestRows

        self._pa = pa
        self._checked = isinstance(rows, RequestRows)
        if isinstance(rows, RequestRows):
            self._source: Iterator[tuple[Any, list[str] | None]] = rows.input_batches()
        elif isinstance(rows, str | bytes | Mapping) or not isinstance(rows, Iterable):
            raise TypeError(f"rows must be from_rows(...) or an iterable of dicts, not {type(rows).__name__}")
        else:
            self._source = self._from_dicts(rows)
        self._pending: list[Any] = []
        self._pending_ids: list[str] = []
        self._have = 0
        self.schema: Any = None
        self.read = 0

    def _from_dicts(self, rows: Iterable[Any]) -> Iterator[tuple[Any, list[str] | None]]:
        pa = self._pa
        schema = None
        iterator = iter(rows)
        start = 0
        while chunk := list(islice(iterator, 8192)):
            for offset, row in enumerate(chunk):
                if not isinstance(row, Mapping):
                    raise InputValidationError(
                        "cannot put the rows beside the results",
                        [Problem("rows", f"row {start + offset} is a {type(row).__name__}, not a dict")],
                    )
            try:
                table = pa.Table.from_pylist(chunk, schema=schema)
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise InputValidationError(
                    "cannot put the rows beside the results",
                    [Problem("rows", f"the rows from row {start} on do not fit the first rows' columns ({exc})")],
                ) from exc
            schema = table.schema
            start += len(chunk)
            yield from ((batch, None) for batch in table.combine_chunks().to_batches())

    def _conform(self, batch: Any) -> Any:
        pa = self._pa
        try:
            return pa.Table.from_batches([batch]).cast(self.schema).combine_chunks().to_batches()[0]
        except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
            raise InputValidationError(
                "cannot put the rows beside the results",
                [Problem("rows", f"the rows from row {self.read + self._have} on change their columns' types ({exc})")],
            ) from exc

    def take(self, count: int) -> tuple[list[Any], list[str] | None]:
        """The next ``count`` rows as columns (fewer at the end of the input), and their custom_ids."""
        pa = self._pa
        while self._have < count:
            item = next(self._source, None)
            if item is None:
                break
            batch, ids = item
            if self.schema is None:
                self.schema = batch.schema.remove_metadata()
            if not batch.schema.equals(self.schema, check_metadata=False):
                batch = self._conform(batch)
            self._pending.append(batch)
            if ids is not None:
                self._pending_ids.extend(ids)
            self._have += batch.num_rows
        if not self._pending:
            return [], [] if self._checked else None
        if self.schema is None:  # pragma: no cover - set with the first batch
            raise AssertionError("no schema")
        table = pa.Table.from_batches([b.replace_schema_metadata(None) for b in self._pending], schema=self.schema)
        taken, rest = table.slice(0, count), table.slice(count)
        self._pending = rest.to_batches() if rest.num_rows else []
        self._have = rest.num_rows
        ids = None
        if self._checked:
            ids, self._pending_ids = self._pending_ids[:count], self._pending_ids[count:]
        self.read += taken.num_rows
        return [column.combine_chunks() for column in taken.columns], ids

    def more(self) -> bool:
        """True when rows are left after the results ran out."""
        if self._have:
            return True
        item = next(self._source, None)
        return item is not None and item[0].num_rows > 0


def record_batches(
    results: Iterable[BatchResult], rows: object = None, *, batch_size: int = BATCH_RESULTS, schema: object = None
) -> Iterator[Any]:
    """The results as pyarrow RecordBatches of up to ``batch_size`` rows, beside ``rows`` when given.

    ``results`` must be in the input's order (as ``job.results()`` gives them); ``rows`` is what the requests
    were built from: the :func:`~siliconflow_batch.requests.from_rows` object (its custom_ids are checked
    against the results') or any iterable of dicts. A count or custom_id that does not match raises
    InputValidationError. An input column named like a result column is kept as ``input_<name>``. With
    ``schema`` (a JSON Schema, a pydantic model class or a ``Schema``), each top-level field of the parsed
    reply is a column after the results' (named ``parsed_<name>`` where it would repeat a column), then
    ``parse_error``; a result not parsed yet is parsed against it.
    """
    pa = _pyarrow("a results table")
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    wanted = Schema.of(schema) if schema is not None else None
    parsed: _Parsed | None = None
    columns_of = result_schema()
    inputs = _Rows(pa, rows) if rows is not None else None
    batches = (
        _read_ahead(pa, columns_of, iter(results.items), batch_size, results.result, wanted)
        if isinstance(results, ResultLines)
        else _result_batches(pa, columns_of, results, batch_size, wanted)
    )
    names: list[str] | None = None
    position = 0
    for custom_ids, arrays, outcomes in batches:
        count = len(custom_ids)
        fields = list(columns_of)
        if inputs is not None:
            columns, ids = inputs.take(count)
            got = len(columns[0]) if columns else 0
            if got < count:
                raise _mismatch(f"there are more results than input rows ({position + got} rows)")
            if ids is not None and ids != list(custom_ids):
                at = next(i for i, (a, b) in enumerate(zip(ids, custom_ids, strict=True)) if a != b)
                raise _mismatch(
                    f"result {position + at} is for custom_id {custom_ids[at]!r} but row {position + at} of "
                    f"the input is {ids[at]!r}: give the results in the input's order"
                )
            if names is None:
                names = [INPUT_PREFIX + n if n in RESULT_COLUMNS else n for n in inputs.schema.names]
            fields = [field.with_name(name) for field, name in zip(inputs.schema, names, strict=True)] + fields
            arrays = columns + arrays
        if wanted is not None:
            if parsed is None:
                parsed = _Parsed(pa, wanted, set(names or ()))
            fields += parsed.arrow_fields
            arrays += parsed.arrays(pa, outcomes)
        position += count
        yield pa.RecordBatch.from_arrays(arrays, schema=pa.schema(fields))
    if inputs is not None and inputs.more():
        raise _mismatch(f"there are more input rows than results ({position} results)")


def _mismatch(reason: str) -> InputValidationError:
    return InputValidationError("cannot put the results beside the input rows", [Problem("rows", reason)])


def _schema_of(pa: Any, rows: object, schema: object = None) -> Any:
    """The table's schema for an empty result set: the result columns, after the input's when known."""
    from .requests import RequestRows

    fields = list(result_schema())
    inputs: list[Any] = []
    if isinstance(rows, RequestRows):
        inputs = [f.with_name(INPUT_PREFIX + f.name) if f.name in RESULT_COLUMNS else f for f in rows.input_schema()]
    if schema is not None:
        fields += _Parsed(pa, Schema.of(schema), {f.name for f in inputs}).arrow_fields
    return pa.schema(inputs + fields)


def to_arrow(results: Iterable[BatchResult], rows: object = None, schema: object = None) -> Any:
    """The results as one pyarrow Table (held in memory), beside ``rows`` when given (see :func:`record_batches`)."""
    pa = _pyarrow("to_arrow")
    batches = list(record_batches(results, rows, schema=schema))
    if not batches:
        return _schema_of(pa, rows, schema).empty_table()
    return pa.Table.from_batches(batches)


def to_pandas(results: Iterable[BatchResult], rows: object = None, schema: object = None) -> Any:
    """The results as a pandas DataFrame, beside ``rows`` (and with ``schema``'s fields) when given."""
    require("pandas", "to_pandas", "pip install pandas 'siliconflow-batch[data]'")
    return to_arrow(results, rows, schema).to_pandas()


class TableOptions(TypedDict, total=False):
    """How ``write_parquet`` and ``write_csv`` write the table.

    ``batch_size`` (``BATCH_RESULTS``, 16,384): results a record batch, written at once (a Parquet row group).
    ``schema``: the parsed fields as columns (see :func:`record_batches`).
    """

    batch_size: int
    schema: object


def _write(
    results: Iterable[BatchResult],
    path: str | os.PathLike[str],
    rows: object,
    kind: str,
    *,
    batch_size: int = BATCH_RESULTS,
    schema: object = None,
) -> int:
    pa = _pyarrow(f"writing {kind}")
    writer_module = require("pyarrow.parquet" if kind == "Parquet" else "pyarrow.csv", f"writing {kind}")
    destination = Path(path)
    check_destination(destination, what="output")
    written = 0
    with atomic_write(destination) as handle:
        writer = None
        try:
            for batch in record_batches(results, rows, batch_size=batch_size, schema=schema):
                if writer is None:
                    writer = _open(writer_module, kind, handle, batch.schema)
                writer.write_batch(batch)
                written += batch.num_rows
            if writer is None:
                writer = _open(writer_module, kind, handle, _schema_of(pa, rows, schema))
        finally:
            if writer is not None:
                writer.close()
    return written


# Result columns whose values are (nearly) all different: a dictionary would be built for each row group, only to be
# dropped when it outgrows its page (the writer's default), so they are written plain.
_UNIQUE_COLUMNS = frozenset(("custom_id", "content", "reasoning_content"))


def _open(module: Any, kind: str, handle: Any, schema: Any) -> Any:
    if kind == "Parquet":
        dictionary = [name for name in schema.names if name not in _UNIQUE_COLUMNS]
        return module.ParquetWriter(handle, schema, compression="zstd", use_dictionary=dictionary)
    return module.CSVWriter(handle, schema)


def write_parquet(
    results: Iterable[BatchResult], path: str | os.PathLike[str], rows: object = None, **options: Unpack[TableOptions]
) -> int:
    """Write the results to a Parquet file (zstd), beside ``rows`` when given; return how many were written.

    One row group per ``batch_size`` results, in constant memory; the file is replaced only once it is whole.
    ``options``: :class:`TableOptions`.
    """
    return _write(results, path, rows, "Parquet", **options)


def write_csv(
    results: Iterable[BatchResult], path: str | os.PathLike[str], rows: object = None, **options: Unpack[TableOptions]
) -> int:
    """Write the results to a CSV file with a header line, beside ``rows`` when given; return the count.

    Written a batch at a time and atomically, as :func:`write_parquet`; a null is an empty field. ``options``:
    :class:`TableOptions`.
    """
    return _write(results, path, rows, "CSV", **options)


def write_table(
    results: Iterable[BatchResult], path: str | os.PathLike[str], rows: object = None, schema: object = None
) -> int:
    """Write Parquet (``.parquet``, ``.pq``) or CSV (``.csv``) by the path's extension; return the count.

    Any other extension raises InputValidationError before anything is written. ``schema``: as
    :func:`record_batches`.
    """
    suffix = Path(path).suffix.lower()
    if suffix in TABLE_SUFFIXES[:2]:
        return write_parquet(results, path, rows, schema=schema)
    if suffix == ".csv":
        return write_csv(results, path, rows, schema=schema)
    raise InputValidationError(
        f"cannot write {path}", [Problem("output", f"the name must end in .parquet or .csv, not {suffix!r}")]
    )
