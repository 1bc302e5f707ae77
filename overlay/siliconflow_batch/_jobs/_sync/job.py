# Generated from _async/job.py by scripts/unasync.py: edit that file, not this one.
"""``Job``: the handle of one job kept in its directory (wait, status, results, cancel)."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from itertools import islice
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self, TypeVar, Unpack

from ... import _http
from ..._atomic import atomic_write, check_destination
from ..._defaults import SEND_RETRY_INTERVAL
from ..._exceptions import JobLockedError, JobNotFinishedError
from ..._records import BatchResult
from ..._sync.polling import persist
from ..._wait import WaitState
from ...structured import Schema
from ..calls import StepOptions, WaitOptions, only, pacing, result_grace, send_settings
from ..outcomes import merged_line, result_lines, result_of, result_of_raw
from ..settings import JobOptions
from ..status import JobBatch, JobStatus, job_batches
from .engine import Engine

__all__ = ["Job"]

PathLike = str | os.PathLike[str]
T = TypeVar("T")


class Job:
    """One job, kept in its directory: wait for it, read its status and results, cancel it.

    Methods that change the job (``wait``, ``step``, ``cancel``) take the directory's lock, so a second process
    working on the same job is refused (:class:`JobLockedError`) rather than raced; ``status``, ``batches`` and
    ``results`` only read.
    Close the job (or use it as a context manager) to release the lock. Jobs come from ``client.jobs``.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self.dir: Path = engine.dir
        """The job directory: the ledger, the spooled input, the shards and the downloaded result files."""

    def __repr__(self) -> str:
        return f"Job(id={self.id!r}, dir={str(self.dir)!r})"

    @property
    def id(self) -> str:
        """The job's id, carried in every one of its batches' metadata."""
        return self._engine.id

    @property
    def options(self) -> JobOptions:
        """The settings the job began with (a resumed job goes on with them), as ``jobs.submit`` takes them."""
        settings = self._engine.settings
        return JobOptions(
            completion_window=settings.completion_window,
            replace_model=settings.replace_model,
            metadata=dict(settings.metadata),
            max_attempts=settings.max_attempts,
            max_shard_lines=settings.limits.lines,
            max_shard_bytes=settings.limits.bytes,
            max_cost=settings.max_cost,
            schema=self.schema,
            resubmit_invalid=settings.resubmit_invalid,
        )

    @property
    def schema(self) -> Schema | None:
        """The schema the job's replies must fit (its results come parsed against it); None for none."""
        return self._engine.schema

    @property
    def started_at(self) -> float | None:
        """When the job began (Unix seconds, on the client's clock), as its directory keeps it.

        A resumed job keeps it, so its elapsed time counts from it (a recovered one: from its first batch's
        creation). None for a job begun by a version that did not record it.
        """
        return self._engine.started_at

    # --- reading ------------------------------------------------------------------------------------------------------

    def status(self, *, refresh: bool = True) -> JobStatus:
        """Where the job stands: requests by outcome, batches by status, attempts, tokens and cost.

        With ``refresh`` (the default) the job's running batches are asked of the server (one list request per
        100 of them), so their statuses and the requests done inside them (``running_done``) are the server's,
        not those of the last poll; the ledger is not changed. ``refresh=False`` reads the job directory only.
        Neither waits for the lock of a process running the job.
        """
        return self._engine.status(refresh=refresh)

    def batches(self) -> list[JobBatch]:
        """The job's batches, one record per shard (by number), as its directory has them: no request is made.

        Each has its shard, attempt, batch id (None until created), the status seen at the last poll and the
        shard's state (:class:`JobBatch`); ``[b.batch_id for b in job.batches() if b.running]`` are the
        batches to watch. Like ``status(refresh=False)``, it does not wait for the lock of a process running it.
        """
        return _http.offload(job_batches, self._engine.ledger)

    def results(self, *, partial: bool = False) -> Iterator[BatchResult]:
        """One result per input request, in input order, each with its ``attempts`` (constant memory).

        A job with a schema gives each result with ``parsed`` (the validated value: a dict, or the pydantic
        model's instance) or ``parse_error`` (why not, in one line). A job with requests still pending raises
        :class:`JobNotFinishedError` unless ``partial``, which gives the latest outcome so far
        (``source="missing"``, code ``pending`` for a request not answered yet).
        """
        results = _http.offload(self._sync_results, partial)  # the count of pending: off the loop
        # Read a thousand at a time, each off the loop (the ledger's rows and the result files, read lazily).
        while some := _http.offload(_next, results, 1000):
            for result in some:
                yield result

    def write_results(self, destination: PathLike, *, partial: bool = False) -> int:
        """Write one JSON line per input request (``BatchResult.to_dict()``), atomically; return how many."""
        target = Path(destination)
        check_destination(target)
        count = 0
        with atomic_write(target) as out:
            lines = _http.offload(self._merged_lines, partial)  # the count of pending: off the loop
            # Read, merged and written a thousand lines at a time, each off the loop (the lines come lazily).
            while written := _http.offload(_write_some, lines, out):
                count += written
        return count

    def _merged_lines(self, partial: bool) -> Iterator[bytes]:
        """The lines ``write_results`` writes, one per request in input order (``merged_line`` without a schema)."""
        self._refuse_pending(partial)
        schema = self._engine.schema
        if schema is None:
            return map(merged_line, self._engine.ledger.raw_rows())
        dumps = json.JSONEncoder(ensure_ascii=False).encode
        return (dumps(_parsed(result_of(row), schema).to_dict()).encode() for row in self._engine.ledger.rows())

    def write_table(self, destination: PathLike, *, rows: object = None, partial: bool = False) -> int:
        """Write the results as Parquet (``.parquet``) or CSV (``.csv``), by the name; return how many.

        One row per input request, in input order, beside the input's own columns when ``rows`` is the
        ``requests.from_rows(...)`` the job was run from (see :mod:`siliconflow_batch.tables`); for a job with
        a schema, its top-level fields as columns after the results', then ``parse_error``. Written in
        record batches, atomically; needs pyarrow (``pip install 'siliconflow-batch[data]'``).
        """
        from ...tables import write_table

        schema = self.schema
        return _http.offload(lambda: write_table(self._table_results(partial), destination, rows, schema))

    def to_arrow(self, *, rows: object = None, partial: bool = False) -> Any:
        """The results as a ``pyarrow.Table``, beside ``rows`` when given (as :meth:`write_table`)."""
        from ...tables import to_arrow

        return _http.offload(lambda: to_arrow(self._table_results(partial), rows, self.schema))

    def to_pandas(self, *, rows: object = None, partial: bool = False) -> Any:
        """The results as a ``pandas.DataFrame`` (needs pandas and pyarrow), beside ``rows`` when given."""
        from ...tables import to_pandas

        return _http.offload(lambda: to_pandas(self._table_results(partial), rows, self.schema))

    def _table_results(self, partial: bool) -> Any:
        """``results`` for the table writers (off the loop): a ``tables.ResultLines`` of the ledger's lines."""
        from ...tables import ResultLines

        self._refuse_pending(partial)
        schema = self._engine.schema
        make = result_of_raw if schema is None else (lambda row: _parsed(result_of_raw(row), schema))
        return ResultLines(result_lines(self._engine.ledger.raw_rows()), make)

    def _sync_results(self, partial: bool) -> Iterator[BatchResult]:
        """``results`` read in one plain loop (the pending count runs off the event loop, where it is called)."""
        self._refuse_pending(partial)
        ledger = self._engine.ledger
        schema = self._engine.schema
        if schema is None:
            return map(result_of, ledger.rows())
        return (_parsed(result_of(row), schema) for row in ledger.rows())

    def _refuse_pending(self, partial: bool) -> None:
        """JobNotFinishedError while requests are pending, unless ``partial`` (then nothing is counted)."""
        pending = 0 if partial else self._engine.ledger.counts().get("pending", 0)  # a scan of every request
        if pending:
            raise JobNotFinishedError(
                f"job {self.id} has {pending} requests still pending (wait for it, or pass partial=True)"
            )

    # --- changing -----------------------------------------------------------------------------------------------------

    def wait(self, **options: Unpack[WaitOptions]) -> JobStatus:
        """Drive the job until every request has a final outcome; return its status.

        One loop for all of the job's batches: each round sends what is unsent, polls the active batches (one
        list request per 100 where the server pages, else one retrieve each), downloads and reads the results of
        those that ended, and cuts new shards for what is to be sent again. ``on_progress`` gets the status
        whenever it changes. The interval stretches while nothing changes, up to ``max_poll_interval``; a
        Retry-After is honoured; ``timeout`` and ``max_outage`` are as in ``batches.wait``. A result file that
        answers 404 (the vendor's can, just after a batch ends) is asked for again for ``result_grace`` seconds
        before its lines count as missing (and are sent again), counted from its first miss as the job
        directory keeps it, so a resumed job does not start the grace over. Each round is :meth:`step`'s. The
        async client sends and downloads up to ``max_concurrency`` at once. A job cancelled meanwhile by another process
        (``job cancel``) is noticed at the next round: nothing more is created, and the wait ends once the
        cancelled batches have.
        """
        max_outage = self._take(only(options, WaitOptions, checked=True))
        poll_interval, max_poll_interval, timeout = pacing(options)
        on_progress = options.get("on_progress")
        timer = WaitState(
            self.id,
            poll_interval=poll_interval,
            timeout=timeout,
            on_update=None,
            max_outage=max_outage,
            max_poll_interval=max_poll_interval,
            subject=f"job {self.id}",
        )
        last: list[JobStatus] = []

        def one_round() -> bool:
            status = self._round()
            key = (status.progress, status.failed, status.pending, tuple(status.batches.items()))
            if timer.progressed(key) and on_progress is not None:
                on_progress(status)
            last[:] = [status]
            return status.done

        persist(one_round, timer)
        return last[0]

    def step(self, **options: Unpack[StepOptions]) -> JobStatus:
        """One round of ``wait``, then return the job's status: no waiting for the batches.

        The round sends what is unsent, polls the active batches once, collects those that ended, cuts shards
        for what is to be sent again and sends them. For a caller that waits in its own way (an orchestrator
        that defers between rounds, a loop of its own): nothing is slept on beyond a retry. It takes the
        directory's lock, as ``wait`` does (kept until the job is closed), and is the same round that ``wait``
        repeats: ``step`` until ``status.done`` is ``wait`` without its pacing. A failure that may pass (a
        dropped connection, a 5xx, a 429) makes it try the round again, within ``max_outage`` seconds; a result
        file's 404 is waited for across rounds and processes (``result_grace``, counted in the job directory
        from when it was first missed).
        """
        max_outage = self._take(only(options, StepOptions, checked=True))
        timer = WaitState(
            self.id, poll_interval=SEND_RETRY_INTERVAL, timeout=None, on_update=None, max_outage=max_outage,
            subject=f"job {self.id}",
        )  # fmt: skip
        last: list[JobStatus] = []

        def one_round() -> bool:
            last[:] = [self._round()]
            return True

        persist(one_round, timer)
        return last[0]

    def _take(self, options: StepOptions) -> float:
        """Take the lock and the round's settings (``wait`` and ``step``); return ``max_outage``."""
        max_outage, concurrency = send_settings(options)
        engine = self._engine
        _http.offload(engine.lock)
        engine.result_grace = result_grace(options)
        engine.concurrency = concurrency
        return max_outage

    def _round(self) -> JobStatus:
        """The one round that ``wait`` repeats and ``step`` makes once; the status after it (from the ledger)."""
        self._engine.advance()
        return self._engine.status(refresh=False)  # the round has just polled

    def cancel(self) -> JobStatus:
        """Cancel the job: no more batches are created and the running ones are cancelled on the server.

        Their requests end as the batches do; the rest end failed with code ``cancelled``. ``wait`` afterwards
        collects what the cancelled batches finished. It works while another process runs the job: the cancel
        is recorded in the job directory and the running batches are cancelled on the server; that process
        notices at its next round, creates nothing more and ends as a cancelled job.
        """
        engine = self._engine
        _http.offload(engine.ledger.mark_cancelled)  # first: a process running the job stops at once
        try:
            _http.offload(engine.lock)
        except JobLockedError:  # another process runs the job: it finishes the cancel; its ledger stays its own
            engine.cancel_running(record=False)
            return self.status()
        engine.finish_cancel()
        return self.status()

    def close(self) -> None:
        """Release the directory's lock and close the ledger."""
        self._engine.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def _next(items: Iterator[T], count: int) -> list[T]:
    """The next ``count`` of ``items`` (fewer at the end, none after it)."""
    return list(islice(items, count))


def _write_some(lines: Iterator[bytes], out: IO[bytes], count: int = 1000) -> int:
    """Write the next ``count`` of ``lines`` (each with its newline); return how many there were."""
    chunk = _next(lines, count)
    if chunk:
        out.write(b"\n".join(chunk) + b"\n")
    return len(chunk)


def _parsed(result: BatchResult, schema: Schema) -> BatchResult:
    parsed, error = schema.check(result)
    return result._replace(parsed=parsed, parse_error=error)
