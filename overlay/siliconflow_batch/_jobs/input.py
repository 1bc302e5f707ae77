"""A job's input: read once into the job directory (the spool), and cut into shards under the vendor's limits.

Each line is read once, by :func:`spool`: checked by the package's validator a line at a time (``LineChecker``:
each problem at its line of the original input), estimated, and written into its shard of the job's first cut.
The resubmissions are cut by :func:`form_shards` from the requests the ledger says are waiting for one. Both
cut by one rule (``_Cutter``), so that a job is replayed from its batches by cutting again. Nothing here talks
to the server.

A line of any length is taken (the vendor limits a file to 1 GB, not its lines): one longer than
``MAX_LINE_BYTES`` is never held whole, but read, hashed, copied and checked in pieces of at most
``PIECE_BYTES`` (``_long_line.scan_line``). Its cost is estimated from its size (``line_cost_from_size``).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, BinaryIO

from .. import _long_line
from .._defaults import READ_BUFFER
from .._exceptions import InputValidationError
from .._problem import Problem
from .._results import loads_object
from ..estimate import LineCost, Tally, line_cost_from_size
from ..validation import MAX_FILE_BYTES, MAX_LINE_BYTES, MAX_LINES, LineChecker, skip_line
from .ledger import Ledger, ShardRow, ShardState, SpooledRow

__all__ = [
    "SHARD_DIR",
    "SPOOL_NAME",
    "FirstCut",
    "JobInput",
    "ShardLimits",
    "fingerprint",
    "form_shards",
    "measure",
    "spool",
]

SPOOL_NAME = "input.jsonl"
_SHARD_BUFFER = 256 * 1024  # a shard's write buffer: a write to the system per 256 KiB (one shard open per model)
SHARD_DIR = "shards"
# Spooled rows recorded a thousand at a time: few enough that they die young. Ten thousand outlived the GC's
# young generations, so each batch set off a full collection, which holds the GIL (measured: an async submit
# of 100,000 requests kept its event loop waiting 14 to 33 ms; a thousand, 7 to 13 ms; scripts/bench).
_ROWS_AT_ONCE = 1_000
# A shard stays this far under the vendor's 1 GB, so that no rounding of "1 GB" on their side can refuse it.
BYTES_MARGIN = 1024**2

JobInput = str | os.PathLike[str] | Iterable[Mapping[str, Any]]
"""A job's input: a path to a JSONL file, or request dicts (each written to the job directory as it is read)."""


@dataclass(frozen=True)
class ShardLimits:
    """How big a shard may be: at most the vendor's 5,000 lines and 1 GB (less a margin)."""

    lines: int = MAX_LINES
    bytes: int = MAX_FILE_BYTES - BYTES_MARGIN

    def problems(self) -> list[Problem]:
        """What is wrong with these limits (they may be lowered, never raised past the vendor's)."""
        found = []
        if not 1 <= self.lines <= MAX_LINES:
            found.append(Problem("max_shard_lines", f"must be between 1 and {MAX_LINES}, got {self.lines}"))
        if not 1 <= self.bytes <= MAX_FILE_BYTES:
            found.append(Problem("max_shard_bytes", f"must be between 1 and {MAX_FILE_BYTES}, got {self.bytes}"))
        return found


class LongLine:
    """A line too long to read whole: its first piece, and the rest still to read in ``handle``.

    :meth:`scan` reads it, once, before the next line is asked for (a line not read is skipped).
    """

    def __init__(self, first: bytes, handle: BinaryIO) -> None:
        self.first = first
        self.handle = handle
        self.done = False

    def scan(self, sink: Callable[[bytes], object]) -> tuple[_long_line.Scanned, int]:
        """Read and check the line, handing ``sink`` each piece and a newline if it ends without one.

        Returns what was kept of it and its length as a job stores it (that newline included).
        """
        self.done = True
        length = 0
        last = b""

        def each(piece: bytes) -> None:
            nonlocal length, last
            length += len(piece)
            last = piece
            sink(piece)

        scanned = _long_line.scan_line(self.first, self.handle, sink=each)
        if not last.endswith(b"\n"):
            each(b"\n")
        return scanned, length


def _source_lines(source: JobInput) -> Iterator[tuple[int, bytes | LongLine | Problem]]:
    """(input line number, raw line ending in a newline) for each non-blank line, or a Problem for a bad one.

    A line longer than ``MAX_LINE_BYTES`` comes as a :class:`LongLine` (it may be blank: its scan says so).
    An input that cannot be opened is one problem (line number 0: it names no line).
    """
    if isinstance(source, str | os.PathLike):
        try:
            handle = open(source, "rb", buffering=READ_BUFFER)  # noqa: SIM115 - closed by the with below
        except IsADirectoryError:
            yield 0, Problem("file", f"{source} is a directory, not a file")
            return
        except OSError as exc:
            yield 0, Problem("file", f"{source} cannot be read: {exc.strerror or exc}")
            return
        with handle:
            number = 0
            while raw := handle.readline(MAX_LINE_BYTES + 1):
                number += 1
                if len(raw) > MAX_LINE_BYTES and not raw.endswith(b"\n"):
                    long = LongLine(raw, handle)
                    yield number, long
                    if not long.done:
                        skip_line(handle)
                elif not raw.isspace():  # raw is never empty here
                    yield number, raw if raw.endswith(b"\n") else raw + b"\n"
        return
    for number, request in enumerate(source, 1):
        if not isinstance(request, Mapping):
            yield number, Problem("request", f"must be a dict, not {type(request).__name__}", number)
            continue
        try:
            yield number, json.dumps(request, ensure_ascii=False, separators=(",", ":")).encode() + b"\n"
        except (TypeError, ValueError) as exc:
            yield number, Problem("request", f"cannot be written as JSON ({exc})", number)


def fingerprint(source: JobInput) -> str:
    """The SHA-256 of the input as a job reads it (blank lines left out): the job's identity for its input."""
    digest = hashlib.sha256()
    for _, item in _source_lines(source):
        if isinstance(item, bytes):
            digest.update(item)
        elif isinstance(item, LongLine):
            before = digest.copy()
            if item.scan(digest.update)[0].line is None:  # blank: left out, as a short one
                digest = before
        elif item.field == "file":  # not readable at all: say so, not "another input"
            raise InputValidationError("the job's input cannot be read", [item])
    return digest.hexdigest()


def measure(source: JobInput, limits: ShardLimits, tally: Tally) -> int:
    """Count every request of ``source`` in ``tally``; return how many shards the job's first cut makes of them.

    The cut's own rule (one model per shard unless the tally's ``replace_model``; at most ``limits``), read in
    one pass, in constant memory, with nothing written: a dry run. Lines that cannot be read are left out.
    """
    open_shards: dict[str, tuple[int, int]] = {}  # model -> (lines, bytes) of its shard being filled
    shards = 0
    for _, item in _source_lines(source):
        if isinstance(item, Problem):
            continue
        if isinstance(item, LongLine):
            scanned, length = item.scan(lambda _: None)
            if scanned.line is None or length > limits.bytes:
                continue
            cost = _long_cost(scanned, length, tally)
            tally.add_cost(cost)
            model = cost.model
        elif len(item) > limits.bytes:
            continue
        else:
            length = len(item)
            model = tally.count(item)
        key = "" if tally.replace_model else model
        lines, size = open_shards.get(key, (0, 0))
        if not lines or lines >= limits.lines or size + length > limits.bytes:
            shards += 1
            lines, size = 0, 0
        open_shards[key] = (lines + 1, size + length)
    return shards


def _long_cost(scanned: _long_line.Scanned, length: int, tally: Tally) -> LineCost:
    """A long line's cost, from its size (``line_cost_from_size``: an upper bound of its text's estimate)."""
    line = scanned.line if scanned.error is None and isinstance(scanned.line, dict) else {}
    body = line.get("body")
    messages = body.get("messages") if isinstance(body, dict) else None
    count = messages.count if isinstance(messages, _long_line.Roles) else 0
    return line_cost_from_size(body, length, count, replace_model=tally.replace_model, calibration=tally.calibration)


def _long_peek(scanned: _long_line.Scanned, number: int) -> tuple[str | None, str, Problem | None]:
    """:func:`_peek` of a long line, from what its scan kept; and a custom_id too long to keep, as a problem."""
    line = scanned.line
    if scanned.error is not None or not isinstance(line, dict):
        return None, "", None
    custom_id = line.get("custom_id")
    body = line.get("body")
    model = body.get("model") if isinstance(body, dict) else None
    model = model if isinstance(model, str) else ""
    if isinstance(custom_id, _long_line.ElidedString):  # results are matched by custom_id: it must be whole
        limit = _long_line.KEEP_BYTES
        return None, model, Problem("custom_id", f"is {custom_id.size} bytes; a job keeps at most {limit}", number)
    return (custom_id if isinstance(custom_id, str) and custom_id else None), model, None


def _tee(*sinks: Callable[[bytes], object]) -> Callable[[bytes], None]:
    """One sink that hands each piece to every one of ``sinks``."""

    def each(piece: bytes) -> None:
        for sink in sinks:
            sink(piece)

    return each


def _peek(raw: bytes) -> tuple[str | None, str]:
    """The line's custom_id (None if it has no usable one) and ``body.model`` ("" if none)."""
    try:
        data = loads_object(raw.decode("utf-8"))  # json.loads less its look for another encoding, for the usual line
    except (ValueError, RecursionError):
        try:
            data = json.loads(raw)  # a BOM, UTF-16: read as before
        except (ValueError, RecursionError):
            return None, ""
    if not isinstance(data, dict):
        return None, ""
    custom_id = data.get("custom_id")
    body = data.get("body")
    model = body.get("model") if isinstance(body, dict) else None
    return (custom_id if isinstance(custom_id, str) and custom_id else None), (model if isinstance(model, str) else "")


@dataclass(frozen=True)
class FirstCut:
    """The job's first cut, made as its input is spooled: the same shards :func:`form_shards` would cut of it.

    ``tally``: the cut's, at the job's prices (see :func:`form_shards`), or None.
    """

    job_id: str
    limits: ShardLimits
    replace_model: str | None
    first: int
    plan: str
    tally: Tally | None = None


def spool(source: JobInput, job_dir: Path, ledger: Ledger, cut: FirstCut | None = None) -> tuple[str, list[Problem]]:
    """Write the input into the job directory and one ledger row per request; return its fingerprint and problems.

    Each line is read once: checked (every rule of ``validate_requests`` that concerns one line, its problems at
    its line of the input; the cut's ``replace_model`` stands for each line's model), its custom_id and model
    recorded and, with ``cut``, put in its shard of the job's first cut as it is written, and counted in that
    shard's tally and in the cut's (see :func:`form_shards`). Without a cut, the lines are checked as they are.
    Runs inside the caller's transaction: a spool that did not finish leaves no rows. A custom_id used twice
    anywhere in the input is a problem at each later line.
    """
    digest = hashlib.sha256()
    checker = LineChecker(replace_model=cut.replace_model if cut is not None else None)
    problems = checker.problems
    rows: list[SpooledRow] = []
    part = job_dir / f"{SPOOL_NAME}.part"
    cutter = None
    if cut is not None:
        cutter = _Cutter.first_cut(ledger, job_dir, cut)
    offset = index = 0
    with part.open("w+b", buffering=READ_BUFFER) as out:
        for number, item in _source_lines(source):
            parsed: dict[str, Any] | None = None
            scanned: _long_line.Scanned | None = None
            if type(item) is bytes:  # the usual line, asked first
                digest.update(item)
                out.write(item)
                length = len(item)
                parsed = checker.check(item, number)
                good = parsed is not None
                if parsed is not None:  # a good request: its custom_id is a string, its body a dict
                    custom_id, model = parsed["custom_id"], parsed["body"].get("model")
                    model = model if isinstance(model, str) else ""  # any, or none, when a replace model is given
                else:  # its problems are reported; its custom_id still counts among the repeated ones
                    custom_id, model = _peek(item)
            elif isinstance(item, Problem):
                problems.append(item)
                continue
            elif isinstance(item, LongLine):
                before = digest.copy()
                scanned, length = item.scan(_tee(digest.update, out.write))
                if scanned.line is None:  # blank: left out, as a short one
                    digest = before
                    out.seek(offset)
                    out.truncate()
                    continue
                custom_id, model, problem = _long_peek(scanned, number)
                if problem is not None:
                    problems.append(problem)
                good = checker.check_scanned(scanned, number) and problem is None
            else:  # pragma: no cover - the source gives bytes, not a subclass of them
                raise TypeError(f"a source line of type {type(item).__name__}")
            shard_id, attempt = None, 0
            if cutter is not None:
                shard = cutter.place(model, 1, number, index, length)
                if shard is not None:
                    shard_id, attempt = shard.id, shard.attempt
                    if isinstance(item, bytes):
                        shard.out.write(item)
                        if parsed is not None and shard.tally is not None:
                            shard.tally.count(parsed)
                    else:  # a long line: copied from the spool, a piece at a time
                        _copy(out, offset, length, shard.out)
                        out.seek(0, os.SEEK_END)
                        if good and scanned is not None and shard.tally is not None:
                            shard.tally.add_cost(_long_cost(scanned, length, shard.tally))
            rows.append((index, number, custom_id, model, offset, length, shard_id, attempt))
            offset += length
            index += 1
            if len(rows) >= _ROWS_AT_ONCE:
                ledger.add_requests(rows)
                rows.clear()
        ledger.add_requests(rows)
        out.flush()
        os.fsync(out.fileno())
    if cutter is not None:
        problems += cutter.finish()
    part.replace(job_dir / SPOOL_NAME)
    if index == 0 and not problems:
        problems.append(Problem("file", "holds no requests"))
    for line, custom_id, first in ledger.repeated_ids():
        problems.append(Problem("custom_id", f"{custom_id!r} is already used on line {first}", line))
    if problems:  # the repeats must not reach a shard that a later cut makes
        ledger.drop_repeats()
    return digest.hexdigest(), problems


def _copy(source: BinaryIO, offset: int, length: int, out: IO[bytes]) -> None:
    """Copy ``length`` bytes of ``source`` from ``offset`` to ``out``, a piece at a time (never held whole)."""
    source.seek(offset)
    while length > 0:
        piece = source.read(min(length, _long_line.PIECE_BYTES))
        if not piece:
            raise RuntimeError(f"the spool ends {length} bytes before its line at offset {offset} does")
        out.write(piece)
        length -= len(piece)


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]", "_", name)[:64] or "job"


def shard_path(job_dir: Path, job_id: str, shard_id: int) -> Path:
    """Where a shard's file is (its name is also the uploaded file's name, unique to the job and shard)."""
    return job_dir / SHARD_DIR / f"{_safe(job_id)}-{shard_id:05d}.jsonl"


@dataclass
class _Open:
    """A shard being written."""

    id: int
    attempt: int
    model: str
    path: Path
    out: IO[bytes]
    lines: int = 0
    bytes: int = 0
    members: list[int] = field(default_factory=list)
    tally: Tally | None = None


class _Cutter:
    """The one rule of a cut, for the first cut (made as the input is spooled) and every cut after it.

    One model per shard unless ``replace_model``, one attempt number per shard, at most ``limits``: a shard is
    closed when the next request would take it past them, and shards are numbered from ``first`` as they open.
    With ``tally`` (the cut's, at the job's prices), each shard keeps a tally of its own, whose upper bound it
    records, and the cut's counts what its shards counted. ``recorded``: its requests are recorded in their
    shard as they are spooled (the first cut), so that closing a shard does not move them into it.
    """

    def __init__(
        self, ledger: Ledger, job_dir: Path, job_id: str, limits: ShardLimits, replace_model: str | None,
        first: int, plan: str, tally: Tally | None, recorded: bool,
    ) -> None:  # fmt: skip
        (job_dir / SHARD_DIR).mkdir(exist_ok=True)
        self.ledger, self.job_dir, self.job_id, self.limits = ledger, job_dir, job_id, limits
        self.replace_model, self.next_id, self.plan, self.tally = replace_model, first, plan, tally
        self.recorded = recorded
        self.groups: dict[tuple[str, int], _Open] = {}
        self.problems: list[Problem] = []

    @classmethod
    def first_cut(cls, ledger: Ledger, job_dir: Path, cut: FirstCut) -> _Cutter:
        """The cutter of a job's first cut, whose requests are recorded in their shards as they are spooled."""
        return cls(ledger, job_dir, cut.job_id, cut.limits, cut.replace_model, cut.first, cut.plan, cut.tally, True)

    def place(self, model: str, attempt: int, line: int, idx: int, length: int) -> _Open | None:
        """The shard the request goes in (for its bytes to be written to ``out``); None when it fits in none."""
        limits = self.limits
        if length > limits.bytes:
            self.problems.append(Problem("line", f"is {length} bytes; a shard holds at most {limits.bytes}", line))
            return None
        key = ("" if self.replace_model else model, attempt)
        shard = self.groups.get(key)
        if shard is not None and (shard.lines >= limits.lines or shard.bytes + length > limits.bytes):
            self._close(shard)
            shard = None
        if shard is None:
            path = shard_path(self.job_dir, self.job_id, self.next_id)
            part = path.with_name(path.name + ".part")
            out = part.open("wb", buffering=_SHARD_BUFFER)
            shard = self.groups[key] = _Open(self.next_id, attempt, self.replace_model or model, part, out)
            if self.tally is not None:
                shard.tally = Tally(self.tally.prices, replace_model=self.replace_model)
            self.next_id += 1
        shard.lines += 1
        shard.bytes += length
        shard.members.append(idx)
        return shard

    def finish(self) -> list[Problem]:
        """Close every shard still open; return the problems found (requests too long for any shard)."""
        for shard in self.groups.values():
            self._close(shard)
        self.groups.clear()
        return self.problems

    def _close(self, shard: _Open) -> None:
        shard.out.flush()
        os.fsync(shard.out.fileno())
        shard.out.close()
        shard.path.replace(shard.path.with_suffix(""))  # drop the .part
        bound = None
        if shard.tally is not None and self.tally is not None:
            self.tally.merge(shard.tally)
            bound = shard.tally.upper_bound
        cut = ShardRow(shard.id, shard.attempt, shard.model, shard.lines, shard.bytes, ShardState.WRITTEN,
                       None, None, None, None, None, self.plan, 0, None if bound is None else str(bound))  # fmt: skip
        self.ledger.add_shard(cut, () if self.recorded else shard.members)


def form_shards(
    ledger: Ledger,
    job_dir: Path,
    job_id: str,
    limits: ShardLimits,
    replace_model: str | None,
    *,
    parents: Sequence[int],
    first: int,
    plan: str,
    tally: Tally | None = None,
) -> list[Problem]:
    """Put every request that ``parents`` sent back to wait into new shards, numbered from ``first``.

    Inside the caller's transaction. The cut's rule is :class:`_Cutter`'s, the first cut's too (made by
    :func:`spool`); each shard records ``plan``, the cut that made it. The same waiting requests and settings
    always give the same shards: a job is replayed from its batches by cutting again. The lines were checked
    when they were spooled. With ``tally`` (the cut's, at the job's prices), each line is counted in it and
    each shard records the upper bound of its cost (``ShardRow.bound``), which the job's cap is checked against
    before its create. Returns the problems found (a request too long for a shard; with any, the caller rolls
    back).
    """
    cutter = _Cutter(ledger, job_dir, job_id, limits, replace_model, first, plan, tally, False)
    with (job_dir / SPOOL_NAME).open("rb") as spooled:
        for row in ledger.waiting(parents):
            shard = cutter.place(row.model, row.attempts + 1, row.line, row.idx, row.length)
            if shard is None:
                continue
            spooled.seek(row.offset)
            line, length = row.line, row.length
            if length > MAX_LINE_BYTES:  # copied a piece at a time, never held whole, and estimated here
                head = spooled.readline(_long_line.PIECE_BYTES)
                scanned, copied = LongLine(head, spooled).scan(shard.out.write)
                if copied != length:
                    raise RuntimeError(f"the spool's line {line} is {copied} bytes, its ledger row says {length}")
                if shard.tally is not None:
                    shard.tally.add_cost(_long_cost(scanned, length, shard.tally))
            else:
                raw = spooled.read(length)
                shard.out.write(raw)
                if shard.tally is not None:
                    shard.tally.count(raw)
    problems = cutter.finish()
    problems.sort(key=lambda p: (p.line or 0, p.field))
    return problems
