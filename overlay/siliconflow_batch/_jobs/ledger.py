"""A job's durable state: a SQLite ledger in the job directory (WAL, one transaction per transition), and its lock.

The server is the truth and the ledger a cache of it: every call that changes the server is written here as
intended before it is made and as done after, so a process killed at any instant leaves a ledger from which the
next one finds the outcome on the server instead of repeating the call (see the engine, ``_async/engine.py``).
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
import threading
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import IO, Any, NamedTuple

from .._exceptions import JobError, JobLockedError
from .._http import logger

__all__ = [
    "IN_FLIGHT",
    "LEDGER_NAME",
    "UNSENT",
    "Ledger",
    "Outcome",
    "RawRow",
    "RequestRow",
    "ResultPlace",
    "ShardRow",
    "ShardState",
    "SpooledRow",
    "lock_job_dir",
    "missing_line",
]

LEDGER_NAME = "ledger.sqlite"
SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- One row per input request, in input order. state: pending (in a shard, or waiting for one when shard is
-- NULL) or final. The result line that decided it (or, while it waits to be sent again, its latest) is where
-- the downloaded result file result_file holds it (result_at, result_length: its bytes there, its newline left
-- out); result holds the line made for a missing one, and a line read before the files were kept (0.6). came_from
-- is the shard whose results sent it back to wait for a new one (0: none, it waits for the job's first cut).
CREATE TABLE IF NOT EXISTS requests (
    idx INTEGER PRIMARY KEY,
    line INTEGER NOT NULL,
    custom_id TEXT,
    model TEXT NOT NULL,
    offset INTEGER NOT NULL,
    length INTEGER NOT NULL,
    shard INTEGER,
    attempts INTEGER NOT NULL DEFAULT 0,
    state TEXT NOT NULL DEFAULT 'pending',
    outcome TEXT,
    source TEXT,
    result BLOB,
    result_line INTEGER,
    came_from INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS requests_by_shard ON requests (shard);
-- How many requests have each outcome ('pending' for none yet) and number of attempts: what a job's status
-- counts, kept by each transition that changes them (a scan of the requests took 37 ms a round at 100,000).
CREATE TABLE IF NOT EXISTS tallies (
    outcome TEXT NOT NULL,
    attempts INTEGER NOT NULL,
    requests INTEGER NOT NULL,
    PRIMARY KEY (outcome, attempts)
);
DROP INDEX IF EXISTS requests_by_outcome;
-- One row per (shard, attempt): the unit sent as one batch. state is a ShardState. plan is the cut that made
-- it (``settings.Plan``), carried in its batch's metadata so that the server alone can replay the job.
-- done: how many of its requests the batch's request_counts say are done, while it runs. bound: the upper
-- bound of its cost (yuan, a decimal string; NULL when a model has no price), recorded when it is cut.
-- missing_since: when (wall time, seconds since the epoch) its result files were first missed (a 404, or an
-- ended batch naming none yet), so that the grace for them outlives the process that saw it.
CREATE TABLE IF NOT EXISTS shards (
    id INTEGER PRIMARY KEY,
    attempt INTEGER NOT NULL,
    model TEXT NOT NULL,
    lines INTEGER NOT NULL,
    bytes INTEGER NOT NULL,
    state TEXT NOT NULL,
    file_id TEXT,
    batch_id TEXT,
    status TEXT,
    output_ref TEXT,
    error_ref TEXT,
    plan TEXT,
    done INTEGER NOT NULL DEFAULT 0,
    bound TEXT,
    missing_since REAL
);
-- The downloaded result files that hold the requests' result lines: their names in the job directory.
CREATE TABLE IF NOT EXISTS result_files (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE);
CREATE TABLE IF NOT EXISTS usage (
    model TEXT PRIMARY KEY,
    requests INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL
);
"""


class ShardState(StrEnum):
    """Where a shard is in its life; each step is written before the call it names is made.

    ``WRITTEN -> UPLOADING -> CREATING -> CREATED -> ENDED -> INGESTED``; or ``DROPPED`` (cancelled before it was
    sent), ``REFUSED`` (the server answered its upload or create with a 400), or ``HELD`` (its upper bound would
    take the job past its cap, ``max_cost``: not sent; a higher cap sends it, back from ``WRITTEN``).
    """

    WRITTEN = "written"  # its file is cut; nothing was sent
    UPLOADING = "uploading"  # its upload may have reached the server
    CREATING = "creating"  # uploaded; its create may have reached the server
    CREATED = "created"  # its batch exists and has not ended
    ENDED = "ended"  # its batch ended; its result files are not read yet
    INGESTED = "ingested"  # every one of its requests has its outcome from it
    DROPPED = "dropped"
    REFUSED = "refused"
    HELD = "held"  # held back by the job's cap; its requests ended with outcome ``budget``


UNSENT = (ShardState.WRITTEN, ShardState.UPLOADING, ShardState.CREATING)
IN_FLIGHT = (ShardState.CREATING, ShardState.CREATED, ShardState.ENDED)
"""The shards whose batch may exist and whose results are not read: the job's cap counts their upper bound."""


class Outcome(StrEnum):
    """A request's outcome once it is final (``outcome`` is NULL while it is pending)."""

    OK = "ok"
    FAILED = "failed"
    BUDGET = "budget"  # held back by the job's cap (``max_cost``): never sent; a higher cap sends it
    INVALID = "invalid"  # answered, but the reply does not fit the job's schema (or was cut at max_tokens)


def missing_line(custom_id: str, error: Mapping[str, str]) -> bytes:
    """The result line kept for a request that no result file answers (``source`` "missing")."""
    return json.dumps({"custom_id": custom_id, "response": None, "error": dict(error)}).encode()


@dataclass(frozen=True)
class ShardRow:
    """One shard as the ledger has it."""

    id: int
    attempt: int
    model: str
    lines: int
    bytes: int
    state: ShardState
    file_id: str | None
    batch_id: str | None
    status: str | None
    output_ref: str | None
    error_ref: str | None
    plan: str | None = None
    done: int = 0
    bound: str | None = None
    """The upper bound of the shard's cost (yuan, a decimal string), recorded when it was cut; None: unknown."""
    missing_since: float | None = None
    """When (wall time) the shard's result files were first missed; None: never."""


@dataclass(frozen=True)
class RequestRow:
    """One input request as the ledger has it, with the result that decided it (once final)."""

    idx: int
    custom_id: str
    attempts: int
    final: bool
    source: str | None
    result: bytes | None
    result_line: int | None


ResultPlace = tuple[bytes | None, int | None, int | None, int | None]
"""Where a request's result line is: ``(line, file, at, length)``: the line itself when it was made (a missing
one), else None and the id of its result file (:meth:`Ledger.result_files`), its offset and length there."""

RawRow = tuple[int, str, int, int, str | None, bytes | None, int | None]
"""A RequestRow's fields as SQLite gives them: ``(idx, custom_id, attempts, final, source, result, result_line)``."""


class WaitingRow(NamedTuple):
    """A request waiting for a shard: where its line is in the spool, and how many times it was sent."""

    idx: int
    line: int
    model: str
    offset: int
    length: int
    attempts: int


_SHARD_COLUMNS = (
    "id, attempt, model, lines, bytes, state, file_id, batch_id, status, output_ref, error_ref, plan, done, bound, "
    "missing_since"
)
# Columns added since the first ledger: a ledger written by an earlier version gains them when opened.
_ADDED_COLUMNS = (
    ("requests", "came_from", "INTEGER NOT NULL DEFAULT 0"),
    ("shards", "plan", "TEXT"),
    ("shards", "done", "INTEGER NOT NULL DEFAULT 0"),
    ("shards", "bound", "TEXT"),
    ("shards", "missing_since", "REAL"),
    ("requests", "result_file", "INTEGER"),
    ("requests", "result_at", "INTEGER"),
    ("requests", "result_length", "INTEGER"),
)
_TABLES = ("meta", "requests", "shards", "result_files", "tallies", "usage")
_PENDING = "pending"  # the tallies' name of no outcome yet
_NO_RESULT = "result = NULL, result_file = NULL, result_at = NULL, result_length = NULL, result_line = NULL"
_INSERT_REQUEST = (
    "INSERT INTO requests (idx, line, custom_id, model, offset, length, shard, attempts) "
    "VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
)
SpooledRow = tuple[int, int, str | None, str, int, int, int | None, int]
"""A request as the spool records it: idx, input line, custom_id, model, offset and length in the spool, and
the shard it is cut into with its attempt (None and 0 while it waits for one)."""


def _shard(row: tuple[Any, ...]) -> ShardRow:
    shard_id, attempt, model, lines, size, state, *rest = row
    return ShardRow(shard_id, attempt, model, lines, size, ShardState(state), *rest)


def lock_job_dir(job_dir: Path) -> IO[bytes]:
    """Hold the job directory's lock for as long as the returned file stays open; JobLockedError if taken.

    An OS lock (flock; msvcrt on Windows): it is released when the holder exits, even by ``kill -9``.
    """
    handle = (job_dir / ".lock").open("a+b")
    try:
        if sys.platform == "win32":  # pragma: no cover
            import msvcrt

            msvcrt.locking(handle.fileno(), msvcrt.LK_NBLCK, 1)
        else:
            import fcntl

            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise JobLockedError(
            f"another process is working on the job in {job_dir}; wait for it to stop, or use another job directory"
        ) from None
    return handle


class _Serialized:
    """A SQLite connection that one thread at a time uses, each statement's rows read whole under the lock.

    The async client runs transitions in worker threads (a commit waits for the disk), so that its event loop goes
    on meanwhile: the lock keeps another thread's statement out of an open transaction, and reading the rows
    before it is released leaves no statement running when another thread takes the connection.
    """

    def __init__(self, connection: sqlite3.Connection, lock: threading.RLock) -> None:
        self._connection, self._lock = connection, lock

    def execute(self, sql: str, args: Sequence[Any] = ()) -> _Rows:
        with self._lock:
            return _Rows(self._connection.execute(sql, args).fetchall())

    def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        with self._lock:
            self._connection.executemany(sql, rows)

    def executescript(self, script: str) -> None:
        with self._lock:
            self._connection.executescript(script)

    def close(self) -> None:
        with self._lock:
            self._connection.close()


class _Rows(list[Any]):
    """The rows of one statement, read whole (the cursor methods the ledger uses)."""

    def fetchone(self) -> Any:
        return self[0] if self else None

    def fetchall(self) -> list[Any]:
        return self


class _ResultReader:
    """Reads result lines where the ledger says they are, in the job's downloaded result files (kept open)."""

    def __init__(self, job_dir: Path, names: Callable[[], dict[int, str]]) -> None:
        self._dir = job_dir
        self._names_of = names
        self._names: dict[int, str] | None = None
        self._open: dict[int, int] = {}

    def __enter__(self) -> Callable[[int, int, int], bytes]:
        return self.read

    def __exit__(self, *_: object) -> None:
        for fd in self._open.values():
            os.close(fd)
        self._open.clear()

    def read(self, file: int, at: int, length: int) -> bytes:
        if self._names is None:
            self._names = self._names_of()
        name = self._names.get(file, f"#{file}")
        try:
            fd = self._open.get(file)
            if fd is None:
                fd = self._open[file] = os.open(self._dir / name, os.O_RDONLY)
            line = os.pread(fd, length, at)
        except OSError as error:
            raise JobError(_LOST.format(name=name, why=error.strerror or error)) from error
        if len(line) != length:
            raise JobError(_LOST.format(name=name, why="it is shorter than when it was read"))
        return line


_LOST = (
    "the job directory's result file {name} cannot be read ({why}): it holds results the ledger points to; "
    "restore the directory, or recover the job from the server into a new one"
)


class Ledger:
    """The SQLite ledger of one job directory: reads, and one method per transition.

    A transition outside :meth:`transaction` is its own transaction; inside, it commits with the block. Safe to
    use from several threads: a transaction holds the connection until it ends (one thread at a time).
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        # isolation_level=None: we say where transactions begin and end (BEGIN IMMEDIATE ... COMMIT).
        self._lock = threading.RLock()
        self._db = _Serialized(sqlite3.connect(path, isolation_level=None, check_same_thread=False), self._lock)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a committed transition survives a power cut too
        self._db.executescript(_SCHEMA)
        for table, column, kind in _ADDED_COLUMNS:
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        self._depth = 0
        if self.meta("tallies") is None:  # a ledger of 0.6, or one just made: its tallies counted once
            with self.transaction():
                self._count_tallies()

    def _count_tallies(self) -> None:
        self._db.execute("DELETE FROM tallies")
        self._db.execute(
            "INSERT INTO tallies SELECT COALESCE(outcome, ?), attempts, COUNT(*) FROM requests GROUP BY 1, 2",
            (_PENDING,),
        )
        self.set_meta(tallies=True)

    def _move(self, moved: Mapping[tuple[str | None, str | None, int], int]) -> None:
        """Count requests moved: ``(from outcome, to outcome, attempts) -> how many`` (None: pending)."""
        self._tally(m for (was, now, attempts), n in moved.items() for m in ((was, attempts, -n), (now, attempts, n)))

    def _tally(self, moves: Iterable[tuple[str | None, int, int]]) -> None:
        """Add to the tallies: ``(outcome, attempts, how many more requests have them)``; None: pending."""
        self._db.executemany(
            "INSERT INTO tallies (outcome, attempts, requests) VALUES (?, ?, ?) "
            "ON CONFLICT (outcome, attempts) DO UPDATE SET requests = requests + excluded.requests",
            [(outcome or _PENDING, attempts, count) for outcome, attempts, count in moves if count],
        )

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One transition made of several: everything in the block is committed together, or not at all."""
        with self._lock:  # held to the end: another thread's statements wait rather than join this transaction
            if self._depth:  # already inside one (this thread's): the outer block commits
                yield
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            else:
                self._db.execute("COMMIT")
            finally:
                self._depth = 0

    # --- the job's settings --------------------------------------------------------------------------------------

    def meta(self, key: str) -> Any:
        """A setting of the job (JSON-decoded), or None."""
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row is not None else None

    def set_meta(self, **values: Any) -> None:
        """Record settings of the job."""
        with self.transaction():
            self._db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(key, json.dumps(value)) for key, value in values.items()],
            )

    def ready(self) -> bool:
        """True once the input was read and validated and the first shards were written: the job exists."""
        return bool(self.meta("ready"))

    def mark_ready(self) -> None:
        """Record that the job exists (its input read, its first shards written, its balance checked)."""
        self.set_meta(ready=True)

    def cancelled(self) -> bool:
        """Whether the job was cancelled (by this process or another)."""
        return bool(self.meta("cancelled"))

    def mark_cancelled(self) -> None:
        """Record the job's cancel: a process running it stops creating batches at its next look."""
        self.set_meta(cancelled=True)

    def reset(self) -> None:
        """Forget everything (a job whose preparation did not finish: nothing of it was sent)."""
        with self.transaction():
            for table in _TABLES:
                self._db.execute(f"DELETE FROM {table}")  # one of the fixed names above
            self._count_tallies()

    # --- the input, as it is spooled -------------------------------------------------------------------------------

    def add_requests(self, rows: Iterable[SpooledRow]) -> None:
        """Record spooled requests (:data:`SpooledRow`), each waiting for a shard or already cut into one."""
        rows = list(rows)
        with self.transaction():
            self._db.executemany(_INSERT_REQUEST, rows)
            self._tally((None, attempts, count) for attempts, count in Counter(row[7] for row in rows).items())

    def repeated_ids(self) -> list[tuple[int, str, int]]:
        """Each line whose custom_id an earlier line already used: (line, custom_id, the first line using it)."""
        return self._db.execute(
            "SELECT r.line, r.custom_id, f.first FROM requests r JOIN "
            "(SELECT custom_id, MIN(line) AS first FROM requests WHERE custom_id IS NOT NULL "
            "GROUP BY custom_id HAVING COUNT(*) > 1) f USING (custom_id) WHERE r.line > f.first ORDER BY r.line"
        ).fetchall()

    def drop_repeats(self) -> None:
        """Forget every request whose custom_id an earlier one used (they are reported, never sent)."""
        with self.transaction():
            self._db.execute(
                "DELETE FROM requests WHERE custom_id IS NOT NULL AND idx NOT IN "
                "(SELECT MIN(idx) FROM requests WHERE custom_id IS NOT NULL GROUP BY custom_id)"
            )
            self._count_tallies()  # before anything is sent: once, on a job that is refused

    # --- shards ----------------------------------------------------------------------------------------------------

    def shards(self, *states: ShardState) -> list[ShardRow]:
        """The shards in any of ``states`` (every shard when none is given), by id."""
        where = f" WHERE state IN ({', '.join('?' * len(states))})" if states else ""
        rows = self._db.execute(f"SELECT {_SHARD_COLUMNS} FROM shards{where} ORDER BY id", states)
        return [_shard(row) for row in rows]

    def shard(self, shard_id: int) -> ShardRow | None:
        """One shard by id, or None."""
        row = self._db.execute(f"SELECT {_SHARD_COLUMNS} FROM shards WHERE id = ?", (shard_id,)).fetchone()
        return _shard(row) if row is not None else None

    def next_shard_id(self) -> int:
        """The id the next new shard takes."""
        return int(self._db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM shards").fetchone()[0])

    def add_shard(self, shard: ShardRow, members: Iterable[int]) -> None:
        """Record a shard just cut (``WRITTEN``) and put the requests ``members`` (their idx) in it.

        ``members`` are requests waiting for their attempt ``shard.attempt`` (a cut puts in one shard only those
        sent as often). The first cut, made as the input is spooled, gives none: its requests are recorded in
        their shard.
        """
        with self.transaction():
            self._db.execute(
                "INSERT INTO shards (id, attempt, model, lines, bytes, state, plan, bound) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (shard.id, shard.attempt, shard.model, shard.lines, shard.bytes, ShardState.WRITTEN, shard.plan,
                 shard.bound),
            )  # fmt: skip
            members = list(members)
            self._tally([(None, shard.attempt - 1, -len(members)), (None, shard.attempt, len(members))])
            if members and members == list(range(members[0], members[-1] + 1)):
                # every idx from the first to the last (a first cut's usual shard): one range of the primary key
                self._db.execute(
                    "UPDATE requests SET shard = ?, attempts = ? WHERE idx BETWEEN ? AND ?",
                    (shard.id, shard.attempt, members[0], members[-1]),
                )
                return
            self._db.executemany(
                "UPDATE requests SET shard = ?, attempts = ? WHERE idx = ?",
                ((shard.id, shard.attempt, idx) for idx in members),
            )

    def _set(self, shard_id: int, sql: str, *args: object) -> None:
        with self.transaction():
            self._db.execute(f"UPDATE shards SET {sql} WHERE id = ?", (*args, shard_id))  # sql: this module's own

    def uploading(self, shard_id: int) -> None:
        """The shard's upload is about to be made."""
        self._set(shard_id, "state = ?", ShardState.UPLOADING)

    def uploaded(self, shard_id: int, file_id: str) -> None:
        """The shard's file is on the server as ``file_id``, but its create waits (for room under the job's cap)."""
        self._set(shard_id, "file_id = ?", file_id)

    def creating(self, shard_id: int, file_id: str) -> None:
        """The shard's file is on the server as ``file_id``; its batch's create is about to be made."""
        self._set(shard_id, "state = ?, file_id = ?", ShardState.CREATING, file_id)

    def created(self, shard_id: int, batch_id: str, status: str, done: int = 0) -> None:
        """The shard's batch exists and runs: its status and how many of its requests it says are done."""
        self._set(shard_id, "state = ?, batch_id = ?, status = ?, done = ?", ShardState.CREATED, batch_id, status, done)

    def ended(self, shard_id: int, batch_id: str, status: str, output_ref: str | None, error_ref: str | None) -> None:
        """The shard's batch ended (``status``), naming these result files."""
        self._set(
            shard_id, "state = ?, batch_id = ?, status = ?, output_ref = ?, error_ref = ?",
            ShardState.ENDED, batch_id, status, output_ref, error_ref,
        )  # fmt: skip

    def missed_files(self, shard_id: int, at: float) -> float:
        """The shard's result files were missed at ``at`` (wall time); return when they were first missed.

        The first miss is kept, so the grace for them counts from it in whichever process looks next.
        """
        with self.transaction():
            self._set(shard_id, "missing_since = COALESCE(missing_since, ?)", at)
            row = self._db.execute("SELECT missing_since FROM shards WHERE id = ?", (shard_id,)).fetchone()
        return float(row[0]) if row is not None and row[0] is not None else at

    def saw_status(self, shard_id: int, status: str) -> None:
        """The server answered with this status for the shard's batch (a cancel's answer)."""
        self._set(shard_id, "status = ?", status)

    def found_file(self, shard_id: int, file_id: str | None) -> None:
        """The shard's input file is ``file_id`` on the server (a recovered job attaches what it found)."""
        self._set(shard_id, "file_id = ?", file_id)

    def refuse(self, shard_id: int, reason: str) -> None:
        """The server refused the shard's upload or batch (a 400): its requests end failed with ``reason``."""
        with self.transaction():
            self._set(shard_id, "state = ?, status = ?", ShardState.REFUSED, "refused")
            self._end_pending(shard_id, {"code": "batch_refused", "message": reason})

    def drop(self, shard_ids: Iterable[int], error: Mapping[str, str]) -> None:
        """Drop shards that will never be sent; every request no batch will answer ends failed with ``error``."""
        with self.transaction():
            for shard_id in shard_ids:
                self._set(shard_id, "state = ?", ShardState.DROPPED)
                self._end_pending(shard_id, error)
            self._end_pending(None, error)

    def hold(self, shard_ids: Iterable[int], error: Mapping[str, str]) -> None:
        """Hold back shards the job's cap leaves no room for: their requests end with outcome ``budget``."""
        with self.transaction():
            for shard_id in shard_ids:
                self._set(shard_id, "state = ?", ShardState.HELD)
                self._end_pending(shard_id, error, Outcome.BUDGET)

    def release_held(self) -> int:
        """Send the held shards after all (the cap was raised): back to ``WRITTEN``, their requests pending.

        Each shard keeps its lines, its plan and its bound, so the job goes on exactly where the cap stopped it;
        its file is uploaded again (the vendor documents no retention for input files, and a cap may be raised
        days later: the held upload stays on the server, unused, as the vendor documents no delete either).
        Returns how many shards were released.
        """
        with self.transaction():
            held = [shard.id for shard in self.shards(ShardState.HELD)]
            for shard_id in held:
                where, args = "WHERE shard = ? AND outcome = ?", (shard_id, Outcome.BUDGET)
                counts = self._db.execute(f"SELECT attempts, COUNT(*) FROM requests {where} GROUP BY 1", args)
                self._move({(Outcome.BUDGET, None, attempts): count for attempts, count in counts.fetchall()})
                self._db.execute(
                    f"UPDATE requests SET state = 'pending', outcome = NULL, source = NULL, {_NO_RESULT} {where}", args
                )
                self._set(shard_id, "state = ?, file_id = NULL", ShardState.WRITTEN)
        return len(held)

    def result_files(self, paths: Iterable[Path]) -> list[int]:
        """The ids of downloaded result files (in the job directory), each recorded once: where result lines are."""
        with self.transaction():
            ids = []
            for path in paths:
                name = path.relative_to(self.path.parent).as_posix()
                self._db.execute("INSERT OR IGNORE INTO result_files (name) VALUES (?)", (name,))
                ids.append(int(self._db.execute("SELECT id FROM result_files WHERE name = ?", (name,)).fetchone()[0]))
            return ids

    def ingested(
        self,
        shard_id: int,
        final: Iterable[tuple[int, Outcome, str, *ResultPlace, int | None, int]],
        retry: Iterable[tuple[str, *ResultPlace, int | None, int]],
        usage: Iterable[tuple[str, int, int, int]],
        invalid_resubmitted: int = 0,
    ) -> None:
        """An ended shard's results are read: requests final or sent back to wait, usage added, in one transaction.

        ``final``: (attempts, outcome, source, *place, line number, idx), ``place`` a :data:`ResultPlace`; ``retry``:
        (source, *place, line number, idx), kept as the latest outcome until a new shard answers; ``usage``:
        (model, requests, input and output tokens); ``invalid_resubmitted``: how many of ``retry`` are sent again
        for an invalid reply (a running count).
        """
        with self.transaction():
            if invalid_resubmitted:
                self._db.execute(
                    "INSERT INTO meta (key, value) VALUES ('invalid_resubmitted', ?) ON CONFLICT (key) "
                    "DO UPDATE SET value = CAST(value AS INTEGER) + CAST(excluded.value AS INTEGER)",
                    (str(invalid_resubmitted),),
                )
            final = list(final)
            self._move(Counter((None, row[1], row[0]) for row in final))
            place = "result = ?, result_file = ?, result_at = ?, result_length = ?, result_line = ?"
            self._db.executemany(
                f"UPDATE requests SET state = 'final', outcome = ?, source = ?, {place} WHERE idx = ?",
                (row[1:] for row in final),
            )
            self._db.executemany(
                f"UPDATE requests SET shard = NULL, came_from = ?, source = ?, {place} WHERE idx = ?",
                ((shard_id, *row) for row in retry),
            )
            self._db.executemany(
                "INSERT INTO usage (model, requests, input_tokens, output_tokens) VALUES (?, ?, ?, ?) "
                "ON CONFLICT (model) DO UPDATE SET requests = requests + excluded.requests, "
                "input_tokens = input_tokens + excluded.input_tokens, "
                "output_tokens = output_tokens + excluded.output_tokens",
                usage,
            )
            self._set(shard_id, "state = ?", ShardState.INGESTED)

    def _end_pending(self, shard_id: int | None, error: Mapping[str, str], outcome: Outcome = Outcome.FAILED) -> None:
        """End the pending requests of a shard (None: those waiting for one) with ``error``, as ``outcome``."""
        where = "shard = ?" if shard_id is not None else "shard IS NULL"
        args = (shard_id,) if shard_id is not None else ()
        sql = f"SELECT idx, custom_id, attempts FROM requests WHERE state = 'pending' AND {where}"
        rows = self._db.execute(sql, args).fetchall()
        self._move(Counter((None, outcome, attempts) for _, _, attempts in rows))
        self._db.executemany(
            "UPDATE requests SET state = 'final', outcome = ?, source = 'missing', result = ?, result_file = NULL, "
            "result_at = NULL, result_length = NULL WHERE idx = ?",
            [(outcome, missing_line(custom_id, error), idx) for idx, custom_id, _ in rows],
        )

    def batches_by_status(self) -> dict[str, int]:
        """How many shards' batches are in each status (``unsent`` for shards not yet created, ``held`` by the cap)."""
        rows = self._db.execute(
            "SELECT COALESCE(status, CASE WHEN state = ? THEN 'held' ELSE 'unsent' END), COUNT(*) FROM shards "
            "WHERE state != ? GROUP BY 1 ORDER BY 1",
            (ShardState.HELD, ShardState.DROPPED),
        )
        return {status: count for status, count in rows}

    def running_done(self) -> int:
        """Requests done inside batches still running, as their request_counts said at the last poll."""
        row = self._db.execute("SELECT COALESCE(SUM(done), 0) FROM shards WHERE state = ?", (ShardState.CREATED,))
        return int(row.fetchone()[0])

    # --- requests --------------------------------------------------------------------------------------------------

    def requests_of(self, shard_id: int) -> dict[str, tuple[int, int]]:
        """The pending requests in a shard: custom_id -> (idx, attempts)."""
        rows = self._db.execute(
            "SELECT custom_id, idx, attempts FROM requests WHERE shard = ? AND state = 'pending'", (shard_id,)
        )
        return {custom_id: (idx, attempts) for custom_id, idx, attempts in rows}

    def waiting_parents(self) -> list[int]:
        """The shards whose results sent requests back to wait for a new shard (0: the job's first cut), in order."""
        rows = self._db.execute(
            "SELECT DISTINCT came_from FROM requests WHERE state = 'pending' AND shard IS NULL ORDER BY 1"
        )
        return [came_from for (came_from,) in rows]

    def waiting(self, parents: Iterable[int], page: int = 10_000) -> Iterator[WaitingRow]:
        """Requests waiting for a shard that came from ``parents``, in input order.

        Read a page at a time, each read finished before the caller updates rows: constant memory, and no
        statement left open over a table being changed (SQLite leaves what it then sees undefined).
        """
        after = -1
        chosen = sorted(set(parents))
        among = ", ".join("?" * len(chosen))
        while True:
            rows = self._db.execute(
                "SELECT idx, line, model, offset, length, attempts FROM requests WHERE state = 'pending' "
                f"AND shard IS NULL AND came_from IN ({among}) AND idx > ? ORDER BY idx LIMIT ?",
                (*chosen, after, page),
            ).fetchall()
            if not rows:
                return
            yield from map(WaitingRow._make, rows)
            after = rows[-1][0]

    def rows(self) -> Iterator[RequestRow]:
        """Every request in input order (a cursor: constant memory whatever the job's size)."""
        for idx, custom_id, attempts, final, source, result, result_line in self.raw_rows():
            yield RequestRow(idx, custom_id, attempts, bool(final), source, result, result_line)

    def raw_rows(self) -> Iterator[RawRow]:
        """:meth:`rows` as the plain tuples SQLite gives (``final`` 0 or 1): for readers of millions of them."""
        columns = "idx, custom_id, attempts, state = 'final', source, result, result_line, result_file, result_at, "
        with _ResultReader(self.path.parent, self._names) as read:
            for row in self._by_idx(columns + "result_length", ""):
                if row[7] is None:  # no line, or one the ledger holds
                    yield row[:7]
                else:
                    yield (*row[:5], read(row[7], row[8], row[9]), row[6])

    def _names(self) -> dict[int, str]:
        return dict(self._db.execute("SELECT id, name FROM result_files").fetchall())

    def _by_idx(self, columns: str, where: str) -> Iterator[Any]:
        """The requests' ``columns`` (``idx`` first) in input order, ``where`` holds, by pages of a thousand.

        A reader never holds a statement open for the whole of a merge, nor the whole of a job in memory.
        """
        sql = f"SELECT {columns} FROM requests WHERE {where} idx > ? ORDER BY idx LIMIT 1000"
        after = -1
        while True:
            rows = self._db.execute(sql, (after,)).fetchall()
            if not rows:
                return
            yield from rows
            after = rows[-1][0]

    def counts(self) -> dict[str, int]:
        """Requests by outcome: ``ok``, ``failed``, ``budget``, ``invalid``, and ``pending`` for those not final yet."""
        return self.counts_and_attempts()[0]

    def counts_and_attempts(self) -> tuple[dict[str, int], dict[int, int]]:
        """:meth:`counts`, and how many requests took each number of attempts: both read from the tallies.

        Tallies that say a request is pending while none can be (none waits for a shard, no shard can still
        answer) are counted again from the requests, so that a job they got wrong still ends (a warning says so).
        """
        counts, attempts = self._read_tallies()
        if counts.get(_PENDING) and not self._pending_work():
            logger.warning("the ledger's tallies of %s said %s requests pending: counted again", self.path, counts)
            with self.transaction():
                self._count_tallies()
            counts, attempts = self._read_tallies()
        return counts, attempts

    def _read_tallies(self) -> tuple[dict[str, int], dict[int, int]]:
        counts: dict[str, int] = {}
        attempts: dict[int, int] = {}
        rows = self._db.execute("SELECT outcome, attempts, requests FROM tallies WHERE requests != 0")
        for outcome, tries, count in rows:
            counts[outcome] = counts.get(outcome, 0) + count
            attempts[tries] = attempts.get(tries, 0) + count
        return counts, dict(sorted(attempts.items()))

    def _pending_work(self) -> bool:
        """Whether a request can be pending: one waits for a shard, or a shard can still answer (or be sent)."""
        live = (*UNSENT, *IN_FLIGHT)
        shard = self._db.execute(
            f"SELECT 1 FROM shards WHERE state IN ({', '.join('?' * len(live))}) LIMIT 1", live
        ).fetchone()
        waiting = self._db.execute("SELECT 1 FROM requests WHERE shard IS NULL AND state = 'pending' LIMIT 1")
        return shard is not None or waiting.fetchone() is not None

    def in_flight(self) -> list[tuple[str, str | None]]:
        """(model, upper bound) of each shard whose batch may exist and whose results are not read (``IN_FLIGHT``)."""
        states = ", ".join("?" * len(IN_FLIGHT))
        sql = f"SELECT model, bound FROM shards WHERE state IN ({states}) ORDER BY id"
        return list(self._db.execute(sql, IN_FLIGHT))

    def ran(self) -> Iterator[tuple[int, int, bytes]]:
        """(offset, length in the spool, result line) of each request answered by an output line: calibration."""
        where = "state = 'final' AND source = 'output' AND (result IS NOT NULL OR result_file IS NOT NULL) AND"
        columns = "idx, offset, length, result, result_file, result_at, result_length"
        with _ResultReader(self.path.parent, self._names) as read:
            for _, offset, length, result, file, at, size in self._by_idx(columns, where):
                yield offset, length, result if file is None else read(file, at, size)

    def usage(self) -> list[tuple[str, int, int, int]]:
        """Tokens per model: (model, requests, input tokens, output tokens)."""
        return list(self._db.execute("SELECT model, requests, input_tokens, output_tokens FROM usage ORDER BY model"))
