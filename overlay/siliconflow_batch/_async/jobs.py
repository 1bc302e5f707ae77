"""``client.jobs``: a workload of any size as one call, with one result per request, in input order.

The input is cut into shards under the vendor's limits, each sent as one batch; the batches are followed in one
polling loop; what fails in a way that may pass (expiry, 429, 5xx, missing lines) is sent again in new shards
up to ``max_attempts``; the results are merged back in input order. Everything is recorded in a SQLite ledger in
the job directory before and after each call that changes the server, so a process killed at any instant is
resumed by the same call (or ``jobs.open``) with no batch created twice and no result lost or counted twice.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import shutil
import sqlite3
import warnings
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path
from types import TracebackType
from typing import IO, TYPE_CHECKING, Self, Unpack

from .. import _http
from .._atomic import atomic_write, check_destination
from .._batch_logic import metadata_value, result_sources
from .._each import async_each
from .._exceptions import (
    APIError,
    BadRequestError,
    InputValidationError,
    InsufficientBalanceError,
    JobError,
    JobInputMismatchError,
    JobLockedError,
    JobNotFinishedError,
    NotFoundError,
    PaginationError,
    PaymentRequiredError,
    SiliconFlowError,
)
from .._job_input import SHARD_DIR, SPOOL_NAME, JobInput, fingerprint, form_shards, shard_path, spool
from .._job_ledger import LEDGER_NAME, Ledger, ShardRow, lock_job_dir
from .._job_logic import (
    TAG_ATTEMPT,
    TAG_INPUT,
    TAG_JOB,
    TAG_PLAN,
    TAG_SHARD,
    JobOptions,
    JobSettings,
    JobStatus,
    Plan,
    cancel_unsent,
    idempotency_key,
    ingest,
    job_status,
    recovered_settings,
    refuse_shard,
    result_of,
    tags,
)
from .._problem import Problem
from .._results import Source as ResultSource
from .._wait import DEFAULT_MAX_OUTAGE, TRANSIENT, WaitState
from ..pricing import PriceTable
from ..validation import CHAT_COMPLETIONS

if TYPE_CHECKING:
    from .._records import BatchResult
    from ..types import Batch
    from .client import AsyncSiliconFlow

__all__ = ["AsyncJob", "AsyncJobs"]

PathLike = str | os.PathLike[str]
OnProgress = Callable[[JobStatus], object]
DEFAULT_JOB_POLL_INTERVAL = 30.0
DEFAULT_JOB_MAX_POLL_INTERVAL = 300.0  # a 24-hour window needs no poll every 30 s while nothing moves
LIST_PAGE = 100  # the list route's largest page: one list request follows up to 100 active batches
# How long a result file that answers 404 (or a batch that ended naming none) is asked for again before its lines
# count as missing: community clients saw the vendor's 404 for a short while after a batch completed.
DEFAULT_RESULT_GRACE = 600.0
DEFAULT_MAX_CONCURRENCY = 4  # uploads-and-creates, and downloads, in flight at once per job (async client)
SEND_RETRY_INTERVAL = 5.0  # between tries of a send that failed transiently (the sender has retried already)
_UNSENT = ("written", "uploading", "creating")


class AsyncJobs:
    """Workloads of any size (``client.jobs``): run, submit, open and recover jobs kept in a job directory."""

    def __init__(self, client: AsyncSiliconFlow) -> None:
        self._client = client

    async def run(
        self,
        source: JobInput,
        *,
        job_dir: PathLike,
        job_id: str | None = None,
        require_balance: bool = False,
        on_progress: OnProgress | None = None,
        poll_interval: float = DEFAULT_JOB_POLL_INTERVAL,
        max_poll_interval: float = DEFAULT_JOB_MAX_POLL_INTERVAL,
        timeout: float | None = None,
        max_outage: float = DEFAULT_MAX_OUTAGE,
        result_grace: float = DEFAULT_RESULT_GRACE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        **options: Unpack[JobOptions],
    ) -> AsyncJob:
        """Submit the workload and wait until every request has a final outcome; return the job.

        Run again with the same ``job_dir`` (after a crash, a Ctrl-C, a redeploy) and it resumes where it stopped.
        The parameters are those of :meth:`submit` (the job's settings: :class:`JobOptions`) and
        :meth:`AsyncJob.wait`.
        """
        job = await self.submit(
            source,
            job_dir=job_dir,
            job_id=job_id,
            require_balance=require_balance,
            max_outage=max_outage,
            max_concurrency=max_concurrency,
            **options,
        )
        try:
            await job.wait(
                on_progress=on_progress,
                poll_interval=poll_interval,
                max_poll_interval=max_poll_interval,
                timeout=timeout,
                max_outage=max_outage,
                result_grace=result_grace,
                max_concurrency=max_concurrency,
            )
        except BaseException:
            job.close()
            raise
        return job

    async def submit(
        self,
        source: JobInput,
        *,
        job_dir: PathLike,
        job_id: str | None = None,
        require_balance: bool = False,
        max_outage: float = DEFAULT_MAX_OUTAGE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
        **options: Unpack[JobOptions],
    ) -> AsyncJob:
        """Read and validate the input, cut it into shards and create a batch for each; return once all exist.

        ``source`` is a JSONL file of any size or an iterable of request dicts, read once into ``job_dir``.
        Nothing is sent while any line is invalid: :class:`InputValidationError` lists every problem at its line
        of the input. ``job_id`` (default: the directory's name) tags every batch, with its shard and attempt;
        ``options`` are the job's settings (:class:`JobOptions`), checked before anything is read or sent.
        A ``job_dir`` holding a job resumes it, and refuses a different input (:class:`JobInputMismatchError`).
        A failure that may pass when tried again (a 5xx, a 429, a dropped connection) is tried again while the
        server keeps answering, for up to ``max_outage`` seconds of failures in a row; an upload or a create
        whose outcome is unknown is looked up first, so nothing is created twice. The async client sends up to
        ``max_concurrency`` shards at once (the sync client, one at a time).
        Batch jobs are paid from the recharged balance only: a zero balance warns, or with ``require_balance``
        raises :class:`InsufficientBalanceError` before anything is created. A server that refuses a batch for
        want of balance (HTTP 402) pauses the job with :class:`InsufficientBalanceError`: top up, then submit
        again with the same arguments; it resumes where it stopped.
        """
        job = await _http.async_offload(AsyncJob, self._client, job_dir)  # opening the ledger writes to disk
        job._concurrency = _checked_concurrency(max_concurrency)
        try:
            job._lock()
            if not job._ledger.ready:
                settings = JobSettings.checked(job.dir, job_id, options)
                await _http.async_offload(job._prepare, source, settings)  # reading and cutting: off the loop
                await job._check_balance(require_balance)
                job._ledger.set_meta(ready=True)
            elif await _http.async_offload(fingerprint, source) != job._ledger.meta("input_sha256"):
                raise JobInputMismatchError(
                    f"the job in {job.dir} was started with another input; "
                    "give the same input to resume it, or another job directory for a new job"
                )
            await job._send_patiently(max_outage)
        except BaseException:
            job.close()
            raise
        return job

    async def open(self, job_dir: PathLike) -> AsyncJob:
        """The job in ``job_dir``, from this process or another (its state is all in the directory)."""
        if not (Path(job_dir) / LEDGER_NAME).is_file():
            raise JobError(f"{job_dir} holds no job (submit or run one there first)")
        job = await _http.async_offload(AsyncJob, self._client, job_dir)  # opening the ledger writes to disk
        if not job._ledger.ready:
            job.close()
            raise JobError(f"{job.dir} holds no job (submit or run one there first)")
        return job

    async def recover(
        self,
        source: JobInput,
        *,
        job_id: str,
        job_dir: PathLike,
        batch_ids: Sequence[str] = (),
        **options: Unpack[JobOptions],
    ) -> AsyncJob:
        """Rebuild a job whose ledger was lost, from this input and the server's batches tagged with ``job_id``.

        Nothing else is needed, and no input file is read back (the vendor does not serve them): each batch's
        metadata names its shard, its attempt and the cut that made it (:class:`Plan`), so the job is cut
        again, cut by cut, from the input and the result files of the batches before. The settings that decide
        a cut (shard limits, ``max_attempts``, ``replace_model``) are read from the batches; ``options`` give
        the rest (window, metadata) for batches still to be created. Where the server's list does not reach
        every batch of the job (a list that ignores paging shows the newest 100 only), :class:`JobError` names
        the shards it could not see: pass their batch ids as ``batch_ids``. The results of the batches that
        have ended are read before it returns (``results(partial=True)`` gives them); ``wait()`` finishes the
        rest, as for any job. A directory that still has its ledger is refused: open it instead.
        """
        job = await _http.async_offload(AsyncJob, self._client, job_dir)  # opening the ledger writes to disk
        try:
            job._lock()
            if job._ledger.ready:
                raise JobError(f"{job.dir} still has its ledger: open the job instead of recovering it")
            checked = JobSettings.checked(job.dir, job_id, options)
            sha = await _http.async_offload(fingerprint, source)
            seen, complete = await job._tagged_batches(job_id, sha, batch_ids)
            await _http.async_offload(job._prepare, source, recovered_settings(checked, options, list(seen.values())))
            await job._replay(seen, complete)
            job._ledger.set_meta(ready=True)
            await job._collect_ended()  # what has ended can be read at once (results(partial=True))
            await job._send_patiently(DEFAULT_MAX_OUTAGE)
        except BaseException:
            job.close()
            raise
        return job


class AsyncJob:
    """One job, kept in its directory: wait for it, read its status and results, cancel it.

    Methods that change the job (``wait``, ``cancel``) take the directory's lock, so a second process working on
    the same job is refused (:class:`JobLockedError`) rather than raced; ``status`` and ``results`` only read.
    Close the job (or use it as a context manager) to release the lock.
    """

    def __init__(self, client: AsyncSiliconFlow, job_dir: PathLike) -> None:
        self.dir = Path(job_dir)
        self.dir.mkdir(parents=True, exist_ok=True)
        self._client = client
        self._ledger = Ledger(self.dir / LEDGER_NAME)
        self._held: IO[bytes] | None = None
        self._prices: PriceTable | None = None
        self._pages = True  # whether the server's batch list pages (else each active batch is retrieved)
        self._known: JobSettings | None = None
        self._result_grace = DEFAULT_RESULT_GRACE
        self._concurrency = DEFAULT_MAX_CONCURRENCY
        self._missing_since: dict[tuple[int, str], float] = {}  # (shard, what): when its result files were missed

    def __repr__(self) -> str:
        return f"AsyncJob(id={self.id!r}, dir={str(self.dir)!r})"

    @property
    def id(self) -> str:
        """The job's id, carried in every one of its batches' metadata."""
        if self._known is None and self._ledger.meta("settings") is None:
            return self.dir.name  # not started yet: the default id
        return self._settings.job_id

    @property
    def _settings(self) -> JobSettings:
        if self._known is None:
            self._known = JobSettings.from_json(self._ledger.meta("settings"))
        return self._known

    # --- reading ------------------------------------------------------------------------------------------------------

    async def status(self, *, refresh: bool = True) -> JobStatus:
        """Where the job stands: requests by outcome, batches by status, attempts, tokens and cost.

        With ``refresh`` (the default) the job's running batches are asked of the server (one list request per
        100 of them), so their statuses and the requests done inside them (``running_done``) are the server's,
        not those of the last poll; the ledger is not changed. ``refresh=False`` reads the job directory only.
        Neither waits for the lock of a process running the job.
        """
        if self._prices is None:
            with contextlib.suppress(SiliconFlowError):  # a broken price file only loses the cost
                self._prices = PriceTable.load()
        seen: dict[int, Batch] = {}
        if refresh:
            seen = await self._look(self._ledger.shards("created"))
        return await _http.async_offload(job_status, self._ledger, self.id, self._prices, seen)

    async def results(self, *, partial: bool = False) -> AsyncIterator[BatchResult]:
        """One result per input request, in input order, each with its ``attempts`` (constant memory).

        A job with requests still pending raises :class:`JobNotFinishedError` unless ``partial``, which gives
        the latest outcome so far (``source="missing"``, code ``pending`` for a request not answered yet).
        """
        if not partial:
            pending = (await _http.async_offload(self._ledger.counts)).get("pending", 0)
            if pending:
                raise JobNotFinishedError(
                    f"job {self.id} has {pending} requests still pending (wait for it, or pass partial=True)"
                )
        for count, row in enumerate(self._ledger.rows(), 1):
            yield result_of(row)
            if count % 1000 == 0:  # let other tasks run: a million results are read in one loop
                await _http.async_checkpoint()

    async def write_results(self, destination: PathLike, *, partial: bool = False) -> int:
        """Write one JSON line per input request (``BatchResult.to_dict()``), atomically; return how many."""
        target = Path(destination)
        check_destination(target)
        count = 0
        with atomic_write(target) as out:
            dumps = json.JSONEncoder(ensure_ascii=False).encode
            async for result in self.results(partial=partial):
                out.write(dumps(result.to_dict()).encode())
                out.write(b"\n")
                count += 1
        return count

    # --- changing -----------------------------------------------------------------------------------------------------

    async def wait(
        self,
        *,
        on_progress: OnProgress | None = None,
        poll_interval: float = DEFAULT_JOB_POLL_INTERVAL,
        max_poll_interval: float = DEFAULT_JOB_MAX_POLL_INTERVAL,
        timeout: float | None = None,
        max_outage: float = DEFAULT_MAX_OUTAGE,
        result_grace: float = DEFAULT_RESULT_GRACE,
        max_concurrency: int = DEFAULT_MAX_CONCURRENCY,
    ) -> JobStatus:
        """Drive the job until every request has a final outcome; return its status.

        One loop for all of the job's batches: each round sends what is unsent, polls the active batches (one
        list request per 100 where the server pages, else one retrieve each), downloads and reads the results of
        those that ended, and cuts new shards for what is to be sent again. ``on_progress`` gets the status
        whenever it changes. The interval stretches while nothing changes, up to ``max_poll_interval``; a
        Retry-After is honoured; ``timeout`` and ``max_outage`` are as in ``batches.wait``. A result file that
        answers 404 (the vendor's can, just after a batch ends) is asked for again for ``result_grace`` seconds
        before its lines count as missing (and are sent again). The async client sends and downloads up to
        ``max_concurrency`` at once. A job cancelled meanwhile by another process
        (``job cancel``) is noticed at the next round: nothing more is created, and the wait ends once the
        cancelled batches have.
        """
        self._lock()
        self._result_grace = result_grace
        self._concurrency = _checked_concurrency(max_concurrency)
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

        async def one_round() -> bool:
            await self._advance()
            status = await self.status(refresh=False)  # the round has just polled
            key = (status.progress, status.failed, status.pending, tuple(status.batches.items()))
            if timer.progressed(key) and on_progress is not None:
                on_progress(status)
            last[:] = [status]
            return status.done

        await self._persist(one_round, timer)
        return last[0]

    async def cancel(self) -> JobStatus:
        """Cancel the job: no more batches are created and the running ones are cancelled on the server.

        Their requests end as the batches do; the rest end failed with code ``cancelled``. ``wait`` afterwards
        collects what the cancelled batches finished. It works while another process runs the job: the cancel
        is recorded in the job directory and the running batches are cancelled on the server; that process
        notices at its next round, creates nothing more and ends as a cancelled job.
        """
        self._ledger.set_meta(cancelled=True)  # first: a process running the job stops creating at once
        try:
            self._lock()
        except JobLockedError:  # another process runs the job: it finishes the cancel; its ledger stays its own
            await self._cancel_running(record=False)
            return await self.status()
        await self._finish_cancel()
        return await self.status()

    async def _finish_cancel(self) -> None:
        """Drop what was never sent and cancel what runs (again after a crash, or after another process's cancel)."""
        for shard in self._ledger.shards("creating"):  # a create that may have happened: find out
            found = await self._client.batches.find(idempotency_key(self.id, shard.id))
            if found is not None:
                self._ledger.update_shard(shard.id, state="created", batch_id=found.id, status=str(found.status))
        cancel_unsent(self._ledger, self._ledger.shards(*_UNSENT))
        await self._cancel_running(record=True)

    async def _cancel_running(self, *, record: bool) -> None:
        """Ask the server to cancel each running batch not yet seen cancelling (again, after a crash)."""
        for shard in self._ledger.shards("created"):
            if shard.status in ("cancelling", "cancelled"):
                continue
            assert shard.batch_id is not None
            try:
                batch = await self._client.batches.cancel(shard.batch_id)
            except BadRequestError:  # it ended meanwhile: the next poll sees how
                continue
            if record:
                self._ledger.update_shard(shard.id, status=str(batch.status))

    def close(self) -> None:
        """Release the directory's lock and close the ledger."""
        if self._known is None and self._ledger.meta("settings") is not None:
            self._known = self._settings  # the id stays readable after closing
        if self._held is not None:
            self._held.close()
            self._held = None
        self._ledger.close()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    # --- the engine ---------------------------------------------------------------------------------------------

    def _lock(self) -> None:
        if self._held is None:
            self._held = lock_job_dir(self.dir)

    def _prepare(self, source: JobInput, settings: JobSettings) -> None:
        """Spool the input and cut the first shards, in one transaction: all of it, or (on any problem) none."""
        self._ledger.reset()
        self._known = None
        try:
            with self._ledger.transaction() as db:
                sha, problems = spool(source, self.dir, db)
                self._ledger.set_meta(settings=settings.to_json(), input_sha256=sha)
                # Cut and validate even after a spool problem, so that one message lists every problem.
                problems = sorted(problems + self._cut(db), key=lambda p: (p.line or 0, p.field))
                if problems:
                    raise InputValidationError(f"{_name(source)} has problems; nothing was sent", problems)
        except BaseException:
            (self.dir / SPOOL_NAME).unlink(missing_ok=True)
            shutil.rmtree(self.dir / SHARD_DIR, ignore_errors=True)
            raise

    async def _check_balance(self, required: bool) -> None:
        """Warn (or with ``required``, refuse) when the recharged balance, which pays for batches, is zero."""
        try:
            account = await self._client.account.retrieve()
        except APIError:
            if required:
                raise
            return  # the job can still run; the balance is only advice here
        if account.charge_balance is not None and not account.can_pay_for_batches:
            message = (
                f"the recharged balance is {account.charge_balance}: batch jobs are paid only from recharged "
                "balance, so these batches may fail"
            )
            if required:
                self._ledger.reset()
                raise InsufficientBalanceError(message + "; nothing was created")
            warnings.warn(message, stacklevel=3)

    async def _advance(self) -> None:
        """One round: send, poll, collect what ended, cut shards for what is to be sent again, send those."""
        await self._send_all()
        if self._cancelled:  # a cancel that a crash cut short, or that another process made, is finished here
            await self._finish_cancel()
        await self._poll()
        await self._collect_ended()
        if not self._cancelled:
            await _http.async_offload(self._cut_waiting)
            await self._send_all()

    def _cut_waiting(self) -> None:
        """Cut shards for what is to be sent again, in one transaction (off the loop: it writes shard files)."""
        with self._ledger.transaction() as db:
            problems = self._cut(db)
            if problems:  # pragma: no cover - these lines passed validation when the job began
                raise InputValidationError("a resubmitted shard did not validate", problems)

    def _cut(self, db: sqlite3.Connection) -> list[Problem]:
        """Cut new shards from every request waiting for one (the first ones, or those to send again).

        One cut per group of the shards that sent requests back, each recorded in its shards' plan.
        """
        problems: list[Problem] = []
        for parents in Plan.groups(self._ledger.waiting_parents(), self._settings):
            problems += self._cut_from(db, parents, self._ledger.next_shard_id())
        return problems

    def _cut_from(self, db: sqlite3.Connection, parents: tuple[int, ...], first: int) -> list[Problem]:
        """Cut the requests that ``parents`` sent back (0: the first cut's) into shards numbered from ``first``."""
        settings = self._settings
        plan = Plan.of(settings, first=first, parents=tuple(p for p in parents if p))
        return form_shards(
            self._ledger,
            db,
            self.dir,
            self.id,
            settings.limits,
            settings.replace_model,
            parents=parents,
            first=first,
            plan=plan.encode(),
        )

    @property
    def _cancelled(self) -> bool:
        return bool(self._ledger.meta("cancelled"))

    async def _persist(self, step: Callable[[], Awaitable[bool]], timer: WaitState) -> None:
        """Run ``step`` until it returns True; between tries, wait as ``timer`` says.

        The one loop of a job that talks to the server: a failure that may pass (``TRANSIENT``) is tried
        again once the server has answered, within the timer's ``max_outage``; any other ends the loop.
        """
        while True:
            try:
                with _http.deadline_scope(timer.deadline):
                    if await step():
                        return
            except TRANSIENT as error:
                timer.failed(error)
            await _http.async_sleep(timer.next_delay())

    async def _send_patiently(self, max_outage: float) -> None:
        """Send every unsent shard, through transient failures (``_persist``): each shard sent is an answer."""
        timer = WaitState(
            self.id, poll_interval=SEND_RETRY_INTERVAL, timeout=None, on_update=None, max_outage=max_outage,
            subject=f"job {self.id}",
        )  # fmt: skip

        async def send() -> bool:
            await self._send_all(timer)
            return True

        await self._persist(send, timer)

    async def _send_all(self, timer: WaitState | None = None) -> None:
        """Send every unsent shard, ``max_concurrency`` at a time (each one recorded intent-first)."""

        async def send(shard: ShardRow) -> None:
            if self._cancelled:  # checked before each shard: a cancel from another process stops the sending
                return
            await self._send(shard)
            if timer is not None:
                timer.progressed(shard.id)

        await async_each(self._ledger.shards(*_UNSENT), send, self._concurrency)

    async def _send(self, shard: ShardRow) -> None:
        """Upload the shard's file and create its batch, each recorded as intended before and as done after."""
        try:
            await self._upload_and_create(shard)
        except BadRequestError as refused:  # the server will refuse it again: its requests fail, the job goes on
            refuse_shard(self._ledger, shard, str(refused))
        except PaymentRequiredError as refused:  # nothing was created; the intent stays, so a resume creates it once
            raise InsufficientBalanceError(await self._paused(shard)) from refused

    async def _paused(self, shard: ShardRow) -> str:
        """The one line that says why the job stopped at ``shard`` and how it goes on."""
        balance = ""
        with contextlib.suppress(APIError):
            account = await self._client.account.retrieve()
            if account.charge_balance is not None:
                balance = f" (the recharged balance is {account.charge_balance})"
        return (
            f"job {self.id} is paused: the server refused the batch of shard {shard.id} for want of balance{balance}; "
            "batches are paid only from recharged balance: top up, then resume the job the same way "
            "(nothing is created twice)"
        )

    async def _upload_and_create(self, shard: ShardRow) -> None:
        state, file_id = shard.state, shard.file_id
        path = shard_path(self.dir, self.id, shard.id)
        if state == "written":
            self._ledger.update_shard(shard.id, state="uploading")
        elif state == "uploading":  # an upload that may have happened before a crash: look for it first
            file_id = await self._uploaded(path, shard.bytes)
        if state != "creating":
            if file_id is None:
                file_id = (await self._client.files.upload(path, validate=False)).id
            self._ledger.update_shard(shard.id, state="creating", file_id=file_id)
        assert file_id is not None
        settings = self._settings
        # The key makes the create happen once: after a crash between the call and its record, the intent is
        # still "creating" and the batch is looked for before anything is sent (look_first).
        batch = await self._client.batches._create(
            input_file_id=file_id,
            completion_window=settings.completion_window,
            endpoint=CHAT_COMPLETIONS,
            metadata={**settings.metadata, **tags(self.id, str(self._ledger.meta("input_sha256")), shard)},
            replace_model=settings.replace_model,
            idempotency_key=idempotency_key(self.id, shard.id),
            look_first=state == "creating",
            options={},
        )
        self._record(shard, batch)

    async def _uploaded(self, path: Path, size: int) -> str | None:
        """The id of the shard's file if an earlier upload of it reached the server (the newest 100 files)."""
        for file in await self._client.files.list(limit=LIST_PAGE):
            if file.filename == path.name and file.bytes == size:
                return file.id
        return None

    def _record(self, shard: ShardRow, batch: Batch) -> None:
        """Record what a poll or a create saw of the shard's batch: its status, and once it ended, its files."""
        status = str(batch.status)
        counts = batch.counts
        done = counts.completed + counts.failed
        refs = dict(result_sources(batch))
        if batch.is_terminal and (refs or not done or self._grace_over(shard.id, "files")):
            self._ledger.update_shard(
                shard.id,
                state="ended",
                batch_id=batch.id,
                status=status,
                output_ref=refs.get("output"),
                error_ref=refs.get("error"),
            )
        elif shard.state != "created" or shard.status != status or shard.done != done:
            # A batch that ended with results but no file named yet (the vendor's can, briefly) is polled again.
            self._ledger.update_shard(shard.id, state="created", batch_id=batch.id, status=status, done=done)

    def _grace_over(self, shard_id: int, what: str) -> bool:
        """Whether a shard's result files have been missing (``what``) for longer than ``result_grace``."""
        since = self._missing_since.setdefault((shard_id, what), _http.monotonic())
        if _http.monotonic() - since < self._result_grace:
            return False
        _http.logger.warning("job %s, shard %s: result files still %s after %g s", self.id, shard_id, what,
                             self._result_grace)  # fmt: skip
        return True

    async def _poll(self) -> None:
        """One look at every active batch.

        Where the server pages, one list request per 100 active batches (ceil(n/100) + 1 at most), then a
        retrieve for each batch the pages did not show.
        """
        active = self._ledger.shards("created")
        seen = await self._look(active)
        for shard in active:
            self._record(shard, seen[shard.id])

    async def _look(self, active: list[ShardRow]) -> dict[int, Batch]:
        """The server's view of these shards' batches, by shard (one list request per 100, else a retrieve each)."""
        seen: dict[str, Batch] = {}
        wanted = {shard.batch_id for shard in active}
        if len(active) > 1 and self._pages:
            budget = math.ceil(len(active) / LIST_PAGE) + 1
            try:
                async for page in self._client.batches.list(limit=LIST_PAGE).iter_pages():
                    seen.update((b.id, b) for b in page.data if b.id in wanted)
                    budget -= 1
                    if len(seen) == len(wanted) or budget == 0:
                        break
            except PaginationError:  # a server that ignores the cursor: retrieve each one from now on
                self._pages = False
        found: dict[int, Batch] = {}
        for shard in active:
            assert shard.batch_id is not None
            batch = seen.get(shard.batch_id)
            found[shard.id] = batch if batch is not None else await self._client.batches.retrieve(shard.batch_id)
        return found

    async def _collect_ended(self) -> None:
        """Download the ended shards' result files, several at a time, then read them one shard at a time."""
        ended = self._ledger.shards("ended")
        await async_each(ended, self._download, self._concurrency)
        for shard in ended:  # each ingest is one transaction
            await self._collect(shard)

    def _result_files(self, shard: ShardRow) -> list[tuple[ResultSource, str, Path]]:
        """Each result file of an ended shard: (source, the server's id or URL, where it is kept)."""
        results = self.dir / "results"
        stem = shard_path(self.dir, self.id, shard.id).stem
        refs: tuple[tuple[ResultSource, str | None], ...] = (("output", shard.output_ref), ("error", shard.error_ref))
        return [(source, ref, results / f"{stem}.{source}.jsonl") for source, ref in refs if ref]

    async def _download(self, shard: ShardRow) -> None:
        """Download an ended batch's result files that are not here yet (each atomically, once)."""
        (self.dir / "results").mkdir(exist_ok=True)
        for source, ref, path in self._result_files(shard):
            if path.exists():
                continue
            try:
                await self._client.files.download(ref, path)
            except NotFoundError:  # the vendor's result files can 404 just after the batch ends
                self._missing_since.setdefault((shard.id, source), _http.monotonic())  # _collect decides

    async def _collect(self, shard: ShardRow) -> None:
        """Read an ended batch's downloaded result files into the ledger, once every file is here.

        A file still missing (it answered 404) is waited for until ``result_grace`` has passed; then its lines
        count as missing, and are sent again.
        """
        files: list[tuple[ResultSource, Path]] = []
        for source, _, path in self._result_files(shard):
            if path.exists():
                files.append((source, path))
            elif not self._grace_over(shard.id, source):
                return  # the next round downloads it again
        # A batch cancelled by someone else is retried; once this job is cancelled, nothing is.
        settings, cancelled = self._settings, self._cancelled
        await _http.async_offload(self._ingest, shard, files, settings.max_attempts, cancelled)

    def _ingest(self, shard: ShardRow, files: list[tuple[ResultSource, Path]], attempts: int, cancelled: bool) -> None:
        ingest(self._ledger, shard, files, max_attempts=attempts, cancelled=cancelled)

    # --- recovery -----------------------------------------------------------------------------------------------------

    async def _tagged_batches(
        self, job_id: str, input_sha256: str, batch_ids: Sequence[str]
    ) -> tuple[dict[int, Batch], bool]:
        """The server's batches of this job and input by shard, and whether the list reached all of them."""
        seen: dict[int, Batch] = {}
        complete = True

        def take(batch: Batch) -> bool:
            if metadata_value(batch, TAG_JOB) != job_id or metadata_value(batch, TAG_INPUT) != input_sha256[:16]:
                return False
            shard = int(metadata_value(batch, TAG_SHARD) or 0)
            if shard in seen and seen[shard].id != batch.id:  # two batches for one shard: keep the older
                _http.logger.warning(
                    "shard %s of job %s has two batches: %s and %s", shard, job_id, seen[shard].id, batch.id
                )
                if (seen[shard].created_at or 0) <= (batch.created_at or 0):
                    return True
            seen[shard] = batch
            return True

        try:
            async for batch in self._client.batches.list(limit=LIST_PAGE):
                take(batch)
        except PaginationError:  # the list ignores its cursor: only its first page was seen
            complete = False
        for batch_id in batch_ids:
            batch = await self._client.batches.retrieve(batch_id)
            if not take(batch):
                raise JobError(f"batch {batch_id} is not one of job {job_id}'s batches for this input")
        return seen, complete

    async def _replay(self, seen: dict[int, Batch], complete: bool) -> None:
        """Rebuild the shards from the server's batches: the first cut (``_prepare`` made it), then each later one.

        Each later cut is made again once the results of the shards it took requests from are read.
        """
        cuts: set[tuple[int, tuple[int, ...]]] = set()
        for batch in seen.values():
            plan = Plan.decode(metadata_value(batch, TAG_PLAN))
            assert plan is not None  # recovered_settings refused batches without one
            if plan.parents:
                cuts.add((plan.first, plan.parents))
        self._attach(seen)
        for first, parents in sorted(cuts):
            for parent in parents:
                shard = self._ledger.shard(parent)
                if shard is None or shard.state in ("written", "created"):
                    raise JobError(
                        f"shard {parent} of job {self.id} sent requests to shard {first}, but "
                        + ("its batch is not among those the server lists" + _unseen_hint(complete)
                           if shard is None or shard.state == "written"
                           else f"its batch {shard.batch_id} is still {shard.status}")
                    )  # fmt: skip
                if shard.state == "ended":
                    await self._download(shard)
                    await self._collect(shard)
                    if self._ledger.shard(parent) == shard:  # a result file answered 404: not read yet
                        raise JobError(
                            f"the result files of shard {parent} of job {self.id} cannot be read yet; "
                            "run recover again in a few minutes"
                        )
            with self._ledger.transaction() as db:
                if self._ledger.next_shard_id() > first:
                    raise JobError(_not_from_this_input(self.id, first))
                self._cut_from(db, parents, first)
            self._attach(seen)
        for shard_id in seen:
            shard = self._ledger.shard(shard_id)
            if shard is None or shard.batch_id is None:
                raise JobError(_not_from_this_input(self.id, shard_id))
        unseen = [shard.id for shard in self._ledger.shards("written")]
        if unseen and not complete:
            raise JobError(
                f"shards {', '.join(map(str, unseen))} of job {self.id} may have batches that the server's list "
                f"did not show{_unseen_hint(False)}"
            )

    def _attach(self, seen: dict[int, Batch]) -> None:
        """Record each server batch on the replayed shard it belongs to (which must be that batch's own cut)."""
        for shard in self._ledger.shards("written"):
            batch = seen.get(shard.id)
            if batch is None:
                continue
            if (
                metadata_value(batch, TAG_ATTEMPT) != str(shard.attempt)
                or metadata_value(batch, TAG_PLAN) != shard.plan
            ):
                raise JobError(_not_from_this_input(self.id, shard.id))
            self._ledger.update_shard(shard.id, file_id=batch.input_file_id)
            self._record(shard, batch)


def _unseen_hint(complete: bool) -> str:
    if complete:
        return " (was it deleted?)"
    return (
        "; the list stopped before the job's oldest batches (it does not page): pass their ids to "
        "recover as batch_ids=[...] (the console lists them)"
    )


def _not_from_this_input(job_id: str, shard_id: int) -> str:
    return (
        f"the server's batch for shard {shard_id} of job {job_id} does not follow from this input: "
        "recover it with the input the job was started with"
    )


def _checked_concurrency(value: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputValidationError("nothing was sent", [Problem("max_concurrency", f"must be >= 1, got {value!r}")])
    return value


def _name(source: JobInput) -> str:
    return str(source) if isinstance(source, str | os.PathLike) else "the requests"
