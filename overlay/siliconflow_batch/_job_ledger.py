"""A job's durable state: a SQLite ledger in the job directory (WAL, one transaction per transition), and its lock.

The server is the truth and the ledger a cache of it: every call that changes the server is written here as
intended before it is made and as done after, so a process killed at any instant leaves a ledger from which the
next one finds the outcome on the server instead of repeating the call (see ``_async/jobs.py``).
"""

from __future__ import annotations

import json
import sqlite3
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from ._exceptions import JobLockedError

__all__ = ["LEDGER_NAME", "Ledger", "RequestRow", "ShardRow", "lock_job_dir"]

LEDGER_NAME = "ledger.sqlite"
SCHEMA_VERSION = "1"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- One row per input request, in input order. state: pending (in a shard, or waiting for one when shard is
-- NULL) or final. result is the raw result line that decided it (NULL for a missing one). came_from is the
-- shard whose results sent it back to wait for a new one (0: none, it waits for the job's first cut).
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
-- One row per (shard, attempt): the unit sent as one batch. state follows the calls made for it:
-- written -> uploading -> creating -> created -> ended -> ingested; or dropped (cancelled before it was
-- sent), or refused (the server answered its upload or create with a 400). plan is the cut that made it
-- (``_job_logic.Plan``), carried in its batch's metadata so that the server alone can replay the job.
-- done: how many of its requests the batch's request_counts say are done, while it runs.
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
    done INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS usage (
    model TEXT PRIMARY KEY,
    requests INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL
);
"""


@dataclass(frozen=True)
class ShardRow:
    """One shard as the ledger has it."""

    id: int
    attempt: int
    model: str
    lines: int
    bytes: int
    state: str
    file_id: str | None
    batch_id: str | None
    status: str | None
    output_ref: str | None
    error_ref: str | None
    plan: str | None = None
    done: int = 0


@dataclass(frozen=True)
class RequestRow:
    """One input request as the ledger has it, with the result that decided it (once final)."""

    idx: int
    custom_id: str
    attempts: int
    state: str
    source: str | None
    result: bytes | None
    result_line: int | None


_SHARD_COLUMNS = "id, attempt, model, lines, bytes, state, file_id, batch_id, status, output_ref, error_ref, plan, done"
# Columns added since the first ledger: a ledger written by an earlier version gains them when opened.
_ADDED_COLUMNS = (
    ("requests", "came_from", "INTEGER NOT NULL DEFAULT 0"),
    ("shards", "plan", "TEXT"),
    ("shards", "done", "INTEGER NOT NULL DEFAULT 0"),
)


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


class Ledger:
    """The SQLite ledger of one job directory. Transitions go through :meth:`transaction`."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # isolation_level=None: we say where transactions begin and end (BEGIN IMMEDIATE ... COMMIT).
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=FULL")  # a committed transition survives a power cut too
        self._db.executescript(_SCHEMA)
        for table, column, kind in _ADDED_COLUMNS:
            present = {row[1] for row in self._db.execute(f"PRAGMA table_info({table})")}
            if column not in present:
                self._db.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        self._depth = 0

    def close(self) -> None:
        """Close the database connection."""
        self._db.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """One transition: everything in the block is committed together, or not at all."""
        if self._depth:  # already inside one: the outer block commits
            yield self._db
            return
        self._db.execute("BEGIN IMMEDIATE")
        self._depth = 1
        try:
            yield self._db
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
        with self.transaction() as db:
            db.executemany(
                "INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)",
                [(key, json.dumps(value)) for key, value in values.items()],
            )

    @property
    def ready(self) -> bool:
        """True once the input was read and validated and the first shards were written: the job exists."""
        return bool(self.meta("ready"))

    def reset(self) -> None:
        """Forget everything (a job whose preparation did not finish: nothing of it was sent)."""
        with self.transaction() as db:
            for table in ("meta", "requests", "shards", "usage"):
                db.execute(f"DELETE FROM {table}")

    # --- shards ----------------------------------------------------------------------------------------------------

    def shards(self, *states: str) -> list[ShardRow]:
        """The shards in any of ``states`` (every shard when none is given), by id."""
        where = f" WHERE state IN ({', '.join('?' * len(states))})" if states else ""
        rows = self._db.execute(f"SELECT {_SHARD_COLUMNS} FROM shards{where} ORDER BY id", states)
        return [ShardRow(*row) for row in rows]

    def shard(self, shard_id: int) -> ShardRow | None:
        """One shard by id, or None."""
        row = self._db.execute(f"SELECT {_SHARD_COLUMNS} FROM shards WHERE id = ?", (shard_id,)).fetchone()
        return ShardRow(*row) if row is not None else None

    def next_shard_id(self) -> int:
        """The id the next new shard takes."""
        return int(self._db.execute("SELECT COALESCE(MAX(id), 0) + 1 FROM shards").fetchone()[0])

    def update_shard(self, shard_id: int, **values: Any) -> None:
        """Record a transition of one shard (its own transaction unless inside one)."""
        columns = ", ".join(f"{name} = ?" for name in values)
        with self.transaction() as db:
            db.execute(f"UPDATE shards SET {columns} WHERE id = ?", (*values.values(), shard_id))

    def batches_by_status(self) -> dict[str, int]:
        """How many shards' batches are in each status (``unsent`` for shards not yet created)."""
        rows = self._db.execute(
            "SELECT COALESCE(status, 'unsent'), COUNT(*) FROM shards WHERE state != 'dropped' GROUP BY 1 ORDER BY 1"
        )
        return {status: count for status, count in rows}

    def running_done(self) -> int:
        """Requests done inside batches still running, as their request_counts said at the last poll."""
        return int(self._db.execute("SELECT COALESCE(SUM(done), 0) FROM shards WHERE state = 'created'").fetchone()[0])

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

    def unsharded(self, parents: Iterable[int], page: int = 10_000) -> Iterator[tuple[int, int, str, int, int, int]]:
        """Requests waiting for a shard that came from ``parents``, in input order.

        Each as (idx, line, model, offset, length, attempts).

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
            yield from rows
            after = rows[-1][0]

    def rows(self) -> Iterator[RequestRow]:
        """Every request in input order (a cursor: constant memory whatever the job's size)."""
        after = -1
        while True:  # by pages, so that a reader never holds a statement open for the whole merge
            rows = self._db.execute(
                "SELECT idx, custom_id, attempts, state, source, result, result_line FROM requests "
                "WHERE idx > ? ORDER BY idx LIMIT 1000",
                (after,),
            ).fetchall()
            if not rows:
                return
            for row in rows:
                yield RequestRow(*row)
            after = rows[-1][0]

    def counts(self) -> dict[str, int]:
        """Requests by outcome: ``ok``, ``failed``, and ``pending`` for those not final yet."""
        rows = self._db.execute("SELECT COALESCE(outcome, 'pending'), COUNT(*) FROM requests GROUP BY 1")
        return {outcome: count for outcome, count in rows}

    def attempts(self) -> dict[int, int]:
        """How many requests took each number of attempts."""
        rows = self._db.execute("SELECT attempts, COUNT(*) FROM requests GROUP BY 1 ORDER BY 1")
        return {attempts: count for attempts, count in rows}

    def usage(self) -> list[tuple[str, int, int, int]]:
        """Tokens per model: (model, requests, input tokens, output tokens)."""
        return list(self._db.execute("SELECT model, requests, input_tokens, output_tokens FROM usage ORDER BY model"))

    def add_usage(self, db: sqlite3.Connection, usage: Iterable[tuple[str, int, int, int]]) -> None:
        """Add token counts, inside the transaction ``db`` of the ingest that read them."""
        db.executemany(
            "INSERT INTO usage (model, requests, input_tokens, output_tokens) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (model) DO UPDATE SET requests = requests + excluded.requests, "
            "input_tokens = input_tokens + excluded.input_tokens, "
            "output_tokens = output_tokens + excluded.output_tokens",
            usage,
        )
