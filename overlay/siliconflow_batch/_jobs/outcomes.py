"""What a job decides of its requests' outcomes, free of network I/O: which are sent again, and the ingest."""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

from .._defaults import READ_BUFFER
from .._failures import Failure, of_codes
from .._http import logger
from .._records import BatchResult
from .._results import MISSING_RESULT, ResultLineError, Source, parse_result_line, result_members
from ..pricing import TokenUsage
from ..structured import Schema
from .ledger import Ledger, Outcome, RawRow, RequestRow, ResultPlace, ShardRow, missing_line

__all__ = ["CANCELLED", "classify", "ingest", "merged_line", "result_lines", "result_of", "result_of_raw"]

Decision = Literal["ok", "retry", "failed", "invalid"]
CANCELLED = {"code": "cancelled", "message": "the job was cancelled before this request ran"}


def classify(result: BatchResult, schema: Schema | None = None) -> Decision:
    """``ok``; ``retry`` for what may succeed if sent again; ``failed`` for a permanent failure; ``invalid``.

    Retried: a missing line, and any failure that is not final by the package's one classification
    (``_failures``): ``batch_expired``, the vendor's overload code 50505, a response status of 408, 429 or 5xx.
    Anything else that is not a success (a 400 for a bad request, say) will fail the same way again. With a
    ``schema``, a success whose reply does not parse or fit it, or was cut at ``max_tokens``, is ``invalid``.
    """
    if result.ok:
        if schema is not None and schema.check(result)[1] is not None:
            return "invalid"
        return "ok"
    if result.source == "missing":
        return "retry"
    error = result.error or {}
    body = result.body or {}
    inner = body.get("error")
    body_error: dict[str, Any] = inner if isinstance(inner, dict) else {}
    failure = of_codes(result.status_code, (error.get("code"), body_error.get("code"), body.get("code")))
    return "failed" if failure is Failure.FINAL else "retry"


def ingest(
    ledger: Ledger,
    shard: ShardRow,
    files: list[tuple[Source, Path]],
    max_attempts: int,
    cancelled: bool,
    schema: Schema | None = None,
    resubmit_invalid: bool = False,
) -> None:
    """Read an ended shard's downloaded result files into the ledger, in one transaction.

    Each request still in the shard gets its line (the first one, if a file repeats it) or is missing; a
    retryable outcome sends it back to wait for a new shard until ``max_attempts``, unless the job was
    cancelled, and so does an invalid reply (see :func:`classify`) with ``resubmit_invalid``. Token usage is
    added from every line that has it (under the shard's model, the one the job priced, whatever name the reply
    gives it): those are billed, whatever comes after.
    """
    pending = ledger.requests_of(shard.id)
    usage = TokenUsage()
    final: list[tuple[int, Outcome, str, *ResultPlace, int | None, int]] = []
    retry: list[tuple[str, *ResultPlace, int | None, int]] = []
    invalid_resubmitted = 0
    outcome_of = {"ok": Outcome.OK, "invalid": Outcome.INVALID, "failed": Outcome.FAILED, "retry": Outcome.FAILED}

    def decide(idx: int, attempts: int, result: BatchResult, place: ResultPlace) -> None:
        nonlocal invalid_resubmitted
        decision = classify(result, schema)
        again = decision == "retry" or (decision == "invalid" and resubmit_invalid)
        if again and not cancelled and attempts < max_attempts:
            retry.append((result.source, *place, result.line, idx))
            invalid_resubmitted += decision == "invalid"
        else:
            final.append((attempts, outcome_of[decision], result.source, *place, result.line, idx))

    # The lines stay in the downloaded files, which the job keeps: the ledger records where each one is.
    for (source, path), file_id in zip(files, ledger.result_files(path for _, path in files), strict=True):
        with path.open("rb", buffering=READ_BUFFER) as handle:
            at = 0
            for number, raw in enumerate(handle, 1):
                line_at, at = at, at + len(raw)
                raw = raw.rstrip(b"\r\n")
                try:
                    result = parse_result_line(raw, number, source)
                except ResultLineError as error:
                    logger.warning("shard %s: skipped a bad result line: %s", shard.id, error)
                    continue
                if result is None or result.custom_id not in pending:
                    continue  # blank, repeated, or not a request of this shard
                idx, attempts = pending.pop(result.custom_id)
                usage.add(result, model=shard.model or None)  # the model asked for and priced, not the echo
                decide(idx, attempts, result, (None, file_id, line_at, len(raw)))
    for custom_id, (idx, attempts) in pending.items():
        why = CANCELLED if cancelled else MISSING_RESULT
        missing = BatchResult(custom_id, None, dict(why), source="missing")
        decide(idx, attempts, missing, (missing_line(custom_id, why), None, None, None))
    ledger.ingested(
        shard.id,
        final,
        retry,
        [(m, u.requests, u.input_tokens, u.output_tokens) for m, u in usage.by_model.items()],
        invalid_resubmitted,
    )


def result_of(row: RequestRow) -> BatchResult:
    """The request's result as the job gives it back: its deciding line, with the number of attempts."""
    if not row.final or row.result is None:  # not decided yet (results asked before the job ended)
        pending = {"code": "pending", "message": "this request has no final outcome yet"}
        return BatchResult(row.custom_id, None, pending, source="missing", attempts=row.attempts)
    source: Source = "error" if row.source == "error" else "output"
    try:
        result = parse_result_line(row.result, row.result_line or 1, source)
    except ResultLineError:  # pragma: no cover - the ledger only holds lines that parsed
        result = None
    if result is None:  # pragma: no cover - as above
        return BatchResult(row.custom_id, None, dict(MISSING_RESULT), source="missing", attempts=row.attempts)
    return result._replace(
        source="missing" if row.source == "missing" else result.source, line=row.result_line, attempts=row.attempts
    )


def result_of_raw(row: RawRow) -> BatchResult:
    """:func:`result_of` of a row as :meth:`Ledger.raw_rows` gives it."""
    idx, custom_id, attempts, final, source, result, result_line = row
    return result_of(RequestRow(idx, custom_id, attempts, bool(final), source, result, result_line))


def result_lines(rows: Iterable[RawRow]) -> Iterator[tuple[str, int, bytes | None, RawRow]]:
    """The items of a ``tables.ResultLines``: each request's custom_id, attempts, output line and row.

    The line is None for an error file's line, a missing result and a pending request: those are made into
    BatchResults by :func:`result_of_raw`.
    """
    for row in rows:
        yield row[1], row[2], row[5] if row[3] and row[4] == "output" else None, row


_encode = json.JSONEncoder(ensure_ascii=False).encode
_encode_escaped = json.JSONEncoder().encode  # every character outside ASCII escaped
_BOM = b"\xef\xbb\xbf"


def merged_line(row: RawRow) -> bytes:
    """The line ``write_results`` writes for a row: ``result_of_raw(row).to_dict()`` as JSON (no newline).

    The response's text is copied from the result line rather than parsed into objects and dumped again (the
    larger part of the work): the same members with the same values, only the spacing and escapes may be the
    vendor's. A line of another shape (see :func:`result_members`), or with a carriage return (a reader of
    universal newlines would split it), is dumped from its BatchResult as before.
    """
    _, _, attempts, final, source, result, _ = row
    if final and result is not None and b"\r" not in result and not result.startswith(_BOM):
        try:
            text = result.decode("utf-8")
        except UnicodeDecodeError:  # pragma: no cover - the ledger only holds lines that parsed
            text = ""
        read = result_members(text)
        if read is not None:
            found, (begin, end) = read
            kind = "missing" if source == "missing" else "error" if source == "error" else "output"
            code, content, error = found.status_code, found.content, found.error
            # The members as json.dumps writes them, each encoded on its own (a dict built to be dumped cost more).
            head = (
                f'{{"custom_id": {_string(found.custom_id)}, "ok": {"true" if found.ok else "false"}, '
                f'"status_code": {_value(code)}, "source": "{kind}", '
                f'"content": {"null" if content is None else _string(content)}, "error": {_value(error)}'
            )
            merged = f'{head}, "response": {text[begin:end]}, "attempts": {attempts}}}'
            with contextlib.suppress(UnicodeEncodeError):  # a lone surrogate (a "\ud800" escape): dumped below
                return merged.encode()
    data = result_of_raw(row).to_dict()
    try:
        return _encode(data).encode()
    except UnicodeEncodeError:  # a string holds a lone surrogate: escaped, as the vendor's own line had it
        return _encode_escaped(data).encode()


_string: Callable[[str], str] = json.encoder.encode_basestring  # what ensure_ascii=False writes a string with


def _value(value: object) -> str:
    """A member's value as ``_encode`` writes it: null and plain ints without a call into the encoder."""
    if value is None:
        return "null"
    return str(value) if type(value) is int else _encode(value)
