"""A job's input: read once into the job directory (the spool), then cut into shards under the vendor's limits.

Every shard, the first ones and the resubmissions alike, is cut by :func:`form_shards` from the requests the
ledger says are waiting for one, and checked by the package's validator (``validate_requests``) with each problem
reported at its line of the original input. Nothing here talks to the server.

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
from .._exceptions import InputValidationError
from .._problem import Problem
from .._results import loads_object
from ..estimate import LineCost, Tally, line_cost_from_size
from ..validation import MAX_FILE_BYTES, MAX_LINE_BYTES, MAX_LINES, OnRequest, read_requests, skip_line
from .ledger import Ledger, ShardRow, ShardState

__all__ = [
    "SHARD_DIR",
    "SPOOL_NAME",
    "JobInput",
    "ShardLimits",
    "fingerprint",
    "form_shards",
    "measure",
    "spool",
]

SPOOL_NAME = "input.jsonl"
SHARD_DIR = "shards"
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
            handle = open(source, "rb")  # noqa: SIM115 - closed by the with below
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
                elif raw.strip():
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


def spool(source: JobInput, job_dir: Path, ledger: Ledger) -> tuple[str, list[Problem]]:
    """Write the input into the job directory and one ledger row per request; return its fingerprint and problems.

    Runs inside the caller's transaction: a spool that did not finish leaves no rows. A custom_id used twice
    anywhere in the input is a problem at each later line (a shard's own validation sees only the shard).
    """
    digest = hashlib.sha256()
    problems: list[Problem] = []
    rows: list[tuple[int, int, str | None, str, int, int]] = []
    part = job_dir / f"{SPOOL_NAME}.part"
    offset = index = 0
    with part.open("wb") as out:
        for number, item in _source_lines(source):
            if isinstance(item, Problem):
                problems.append(item)
                continue
            if isinstance(item, LongLine):
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
            else:
                digest.update(item)
                out.write(item)
                custom_id, model = _peek(item)
                length = len(item)
            rows.append((index, number, custom_id, model, offset, length))
            offset += length
            index += 1
            if len(rows) >= 10_000:
                ledger.add_requests(rows)
                rows.clear()
        ledger.add_requests(rows)
        out.flush()
        os.fsync(out.fileno())
    part.replace(job_dir / SPOOL_NAME)
    if index == 0 and not problems:
        problems.append(Problem("file", "holds no requests"))
    for line, custom_id, first in ledger.repeated_ids():
        problems.append(Problem("custom_id", f"{custom_id!r} is already used on line {first}", line))
    if problems:  # the repeats must not reach a shard, where the validator would report them again
        ledger.drop_repeats()
    return digest.hexdigest(), problems


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
    numbers: list[int] = field(default_factory=list)
    tally: Tally | None = None
    estimated: dict[int, LineCost] = field(default_factory=dict)
    """The long lines' costs, estimated from their size as they were copied, by line number in the shard (from 1)."""


def _count_in(shard: Tally | None, estimated: Mapping[int, LineCost]) -> OnRequest | None:
    """What counts a shard's checked line in its tally; None when no tally is kept.

    A line among ``estimated`` (the long ones, counted from their size once checked) is not counted here.
    """
    if shard is None:
        return None
    add = shard.count

    def count(number: int, line: dict[str, Any]) -> None:
        if number not in estimated:
            add(line)

    return count


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

    Inside the caller's transaction. One model per shard unless ``replace_model``, and one attempt number per
    shard (the requests' next); each shard records ``plan``, the cut that made it. The same waiting requests
    and settings always give the same shards: a job is replayed from its batches by cutting again.
    Returns the problems the validator found, at their lines of the input; with any, the caller rolls back.
    With ``tally`` (the cut's, at the job's prices), each line the validator passes is counted in it and each shard
    records the upper bound of its cost (``ShardRow.bound``), which the job's cap is checked against before its
    create (a cut with problems is rolled back, its tally dropped).
    """
    (job_dir / SHARD_DIR).mkdir(exist_ok=True)
    problems: list[Problem] = []
    groups: dict[tuple[str, int], _Open] = {}
    next_id = first

    def close(shard: _Open) -> None:
        shard.out.flush()
        os.fsync(shard.out.fileno())
        shard.out.close()
        final = shard.path.with_suffix("")  # drop the .part
        shard.path.replace(final)
        # The shard's lines are estimated from the parse that checks them: one parse a line for both.
        count = _count_in(shard.tally, shard.estimated)
        report = read_requests(final, replace_model=replace_model, each=count)
        flagged = set()
        for problem in report.problems:
            flagged.add(problem.line)
            line = shard.numbers[problem.line - 1] if problem.line is not None else None
            problems.append(Problem(problem.field, problem.message, line))
        bound = None
        if shard.tally is not None and tally is not None:
            for number, cost in shard.estimated.items():  # a long line counts, as any other, once its check passed
                if number not in flagged:
                    shard.tally.add_cost(cost)
            tally.merge(shard.tally)  # the cut counts what its shards counted
            bound = shard.tally.upper_bound
        cut = ShardRow(shard.id, shard.attempt, shard.model, shard.lines, shard.bytes, ShardState.WRITTEN,
                       None, None, None, None, None, plan, 0, None if bound is None else str(bound))  # fmt: skip
        ledger.add_shard(cut, shard.members)

    with (job_dir / SPOOL_NAME).open("rb") as spooled:
        for row in ledger.waiting(parents):
            line, length = row.line, row.length
            if length > limits.bytes:
                problems.append(Problem("line", f"is {length} bytes; a shard holds at most {limits.bytes}", line))
                continue
            key = ("" if replace_model else row.model, row.attempts + 1)
            shard = groups.get(key)
            if shard is not None and (shard.lines >= limits.lines or shard.bytes + length > limits.bytes):
                close(shard)
                shard = None
            if shard is None:
                path = shard_path(job_dir, job_id, next_id)
                part = path.with_name(path.name + ".part")
                shard = groups[key] = _Open(next_id, key[1], replace_model or row.model, part, part.open("wb"))
                if tally is not None:
                    shard.tally = Tally(tally.prices, replace_model=replace_model)
                next_id += 1
            spooled.seek(row.offset)
            if length > MAX_LINE_BYTES:  # copied a piece at a time, never held whole, and estimated here
                head = spooled.readline(_long_line.PIECE_BYTES)
                scanned, copied = LongLine(head, spooled).scan(shard.out.write)
                if copied != length:
                    raise RuntimeError(f"the spool's line {line} is {copied} bytes, its ledger row says {length}")
                if shard.tally is not None:
                    shard.estimated[shard.lines + 1] = _long_cost(scanned, length, shard.tally)
            else:
                raw = spooled.read(length)
                shard.out.write(raw)
            shard.lines += 1
            shard.bytes += length
            shard.members.append(row.idx)
            shard.numbers.append(line)
    for shard in groups.values():
        close(shard)
    problems.sort(key=lambda p: (p.line or 0, p.field))
    return problems
