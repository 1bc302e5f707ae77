"""``client.jobs``: a workload of any size as one call, with one result per request, in input order.

The input is cut into shards under the vendor's limits, each sent as one batch; the batches are followed in one
polling loop; what fails in a way that may pass (expiry, 429, 5xx, missing lines) is sent again in new shards
up to ``max_attempts``; the results are merged back in input order. Everything is recorded in a SQLite ledger in
the job directory before and after each call that changes the server, so a process killed at any instant is
resumed by the same call (or ``jobs.open``) with no batch created twice and no result lost or counted twice.
This resource opens and prepares jobs; the job subsystem behind it (the ledger, the input, the handle
``AsyncJob``, the engine and recovery) is ``siliconflow_batch._jobs``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

from .. import _http
from .._defaults import DEFAULT_MAX_OUTAGE
from .._exceptions import APIError, InputValidationError, JobError, JobInputMismatchError
from .._jobs._async.engine import AsyncEngine
from .._jobs._async.job import AsyncJob
from .._jobs._async.recovery import replay, tagged_batches
from .._jobs.calls import RunOptions, SubmitOptions, WaitOptions, only, send_settings
from .._jobs.input import JobInput, fingerprint, measure
from .._jobs.ledger import LEDGER_NAME
from .._jobs.money import JobEstimate, calibrated
from .._jobs.settings import JobOptions, JobSettings, checked_max_cost, recovered_settings
from .._problem import Problem
from ..estimate import Tally
from ..pricing import PriceTable
from ..structured import Schema

if TYPE_CHECKING:
    from .client import AsyncSiliconFlow

__all__ = ["AsyncJob", "AsyncJobs"]

PathLike = str | os.PathLike[str]
Prices = PriceTable | PathLike | None


class AsyncJobs:
    """Workloads of any size (``client.jobs``): run, submit, open and recover jobs kept in a job directory."""

    def __init__(self, client: AsyncSiliconFlow) -> None:
        self._client = client

    async def run(self, source: JobInput, *, job_dir: PathLike, **options: Unpack[RunOptions]) -> AsyncJob:
        """Submit the workload and wait until every request has a final outcome; return the job.

        Run again with the same ``job_dir`` (after a crash, a Ctrl-C, a redeploy) and it resumes where it stopped.
        The options are those of :meth:`submit` (:class:`SubmitOptions`, with the job's settings,
        :class:`JobOptions`) and of :meth:`AsyncJob.wait` (:class:`WaitOptions`).
        """
        only(options, RunOptions, checked=True)
        job = await self.submit(source, job_dir=job_dir, **only(options, SubmitOptions))
        try:
            await job.wait(**only(options, WaitOptions))
        except BaseException:
            job.close()
            raise
        return job

    async def submit(self, source: JobInput, *, job_dir: PathLike, **options: Unpack[SubmitOptions]) -> AsyncJob:
        """Read and validate the input, cut it into shards and create a batch for each; return once all exist.

        ``source`` is a JSONL file of any size or an iterable of request dicts, read once into ``job_dir``.
        Nothing is sent while any line is invalid: :class:`InputValidationError` lists every problem at its line
        of the input. The options (:class:`SubmitOptions`) hold the job's settings (:class:`JobOptions`), checked
        before anything is read or sent. ``job_id`` (default: the directory's name) tags every batch, with its
        shard and attempt.
        A ``job_dir`` holding a job resumes it, and refuses a different input (:class:`JobInputMismatchError`).
        A failure that may pass when tried again (a 5xx, a 429, a dropped connection) is tried again while the
        server keeps answering, for up to ``max_outage`` seconds of failures in a row; an upload or a create
        whose outcome is unknown is looked up first, so nothing is created twice. The async client sends up to
        ``max_concurrency`` shards at once (the sync client, one at a time).
        Batch jobs are paid from the recharged balance only: a zero balance warns, or with ``require_balance``
        raises :class:`InsufficientBalanceError` before anything is created. A server that refuses a batch for
        want of balance (HTTP 402) pauses the job with :class:`InsufficientBalanceError`: top up, then submit
        again with the same arguments; it resumes where it stopped.
        Money: the job keeps ``prices`` (a :class:`PriceTable` or a price file; default: ``PriceTable.load()``) and
        the estimate of its whole input at them (``JobStatus.estimate``). With ``max_cost`` (yuan), no batch is
        created whose upper bound would take the job's committed cost (spent, plus the upper bound of every
        batch in flight; resubmissions count) past it: a shard that does not fit waits for the batches in
        flight, and with none left, it and every shard after it are held back, their requests ending with
        outcome ``budget`` (``JobStatus.budget``). Submitting again with a higher ``max_cost`` sends exactly
        those. The cap is checked in the transaction that records each create's intent, so no crash can
        overspend it; the input side of a bound is an estimate (see :mod:`siliconflow_batch.estimate`).
        """
        job_options = only(only(options, SubmitOptions, checked=True), JobOptions)
        job_id, require_balance = options.get("job_id"), options.get("require_balance", False)
        max_outage, concurrency = send_settings(options)
        table = _prices(options.get("prices"))
        source, job_options = _with_schema(source, job_options)
        engine = await self._engine(job_dir)
        try:
            engine.concurrency = concurrency
            await _http.async_offload(engine.lock)
            if not await _http.async_offload(engine.ledger.ready):
                settings = JobSettings.checked(engine.dir, job_id, job_options)
                # Reading and cutting: off the loop.
                await _http.async_offload(engine.prepare, source, settings, _name(source), table)
                await engine.check_balance(require_balance)
                await _http.async_offload(engine.ledger.mark_ready)
            elif await _http.async_offload(fingerprint, source) != await _http.async_offload(
                engine.ledger.meta, "input_sha256"
            ):
                raise JobInputMismatchError(
                    f"the job in {engine.dir} was started with another input; "
                    "give the same input to resume it, or another job directory for a new job"
                )
            elif "max_cost" in job_options:  # a new cap: what the old one held back is sent, under the new one
                await _http.async_offload(engine.raise_cap, _checked_cap(job_options["max_cost"]))
            engine.use_schema(_live_schema(job_options))
            await engine.send_patiently(max_outage)
        except BaseException:
            engine.close()
            raise
        return AsyncJob(engine)

    async def open(self, job_dir: PathLike) -> AsyncJob:
        """The job in ``job_dir``, from this process or another (its state is all in the directory)."""
        if not (Path(job_dir) / LEDGER_NAME).is_file():
            raise JobError(f"{job_dir} holds no job (submit or run one there first)")
        engine = await self._engine(job_dir)
        if not await _http.async_offload(engine.ledger.ready):
            engine.close()
            raise JobError(f"{engine.dir} holds no job (submit or run one there first)")
        return AsyncJob(engine)

    async def recover(
        self,
        source: JobInput,
        *,
        job_id: str,
        job_dir: PathLike,
        batch_ids: Sequence[str] = (),
        prices: Prices = None,
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
        rest, as for any job. A directory that still has its ledger is refused: open it instead. ``max_cost`` and
        ``prices`` are as for :meth:`submit`: the cap counts what the recovered batches spent and have in flight.
        """
        source, options = _with_schema(source, options)
        engine = await self._engine(job_dir)
        try:
            table = _prices(prices)
            await _http.async_offload(engine.lock)
            if await _http.async_offload(engine.ledger.ready):
                raise JobError(f"{engine.dir} still has its ledger: open the job instead of recovering it")
            checked = JobSettings.checked(engine.dir, job_id, options)
            sha = await _http.async_offload(fingerprint, source)
            seen, complete = await tagged_batches(engine, job_id, sha, batch_ids)
            settings = recovered_settings(checked, options, list(seen.values()))
            await _http.async_offload(engine.prepare, source, settings, _name(source), table)
            await replay(engine, seen, complete)
            await _http.async_offload(engine.ledger.mark_ready)
            engine.use_schema(_live_schema(options))
            await engine.collect_ended()  # what has ended can be read at once (results(partial=True))
            await engine.send_patiently(DEFAULT_MAX_OUTAGE)
        except BaseException:
            engine.close()
            raise
        return AsyncJob(engine)

    async def estimate(
        self,
        source: JobInput,
        *,
        job_dir: PathLike | None = None,
        calibrate_from: PathLike | Sequence[PathLike] = (),
        prices: Prices = None,
        balance: bool = True,
        **options: Unpack[JobOptions],
    ) -> JobEstimate:
        """What the job would cost, with nothing sent but the balance look-up (``balance=False``: not even that).

        Requests and the batches the first cut makes of them; input tokens, estimated by each model's stated
        characters-per-token rate; output tokens as an upper bound (each line's ``max_tokens``, else the model's
        documented maximum or a default the report names); the cost range at the batch prices (``prices``, as
        for :meth:`submit`); the recharged balance and whether it covers the upper bound. The input rates are
        calibrated from the usage of the lines already run by the job in ``job_dir`` (when it holds one) and
        by the jobs in ``calibrate_from`` (job directories). ``options`` are the job's (:class:`JobOptions`):
        ``replace_model``, the shard limits and ``max_cost`` change the report. No tokenizer is downloaded.
        """
        source, options = _with_schema(source, options)
        settings = JobSettings.checked(Path(job_dir) if job_dir is not None else Path("."), "estimate", options)
        table = _prices(prices) or PriceTable.load()
        dirs = [calibrate_from] if isinstance(calibrate_from, str | os.PathLike) else list(calibrate_from)
        if job_dir is not None:
            dirs.insert(0, job_dir)
        calibration, used = await _http.async_offload(calibrated, [Path(d) for d in dirs])
        tally = Tally(table, replace_model=settings.replace_model, calibration=calibration)
        shards = await _http.async_offload(measure, source, settings.limits, tally)
        recharged: Decimal | None = None
        if balance:
            try:
                recharged = (await self._client.account.retrieve()).charge_balance
            except APIError as error:
                _http.logger.warning("the recharged balance could not be looked up: %s", error)
        return JobEstimate(shards, tally.estimate(recharged), used, settings.cap)

    async def _engine(self, job_dir: PathLike) -> AsyncEngine:
        return await _http.async_offload(AsyncEngine, self._client, Path(job_dir))  # opening the ledger writes


def _prices(prices: Prices) -> PriceTable | None:
    """The price table given (a file is read and checked now, before anything is sent)."""
    return prices if isinstance(prices, PriceTable) or prices is None else PriceTable.load(prices)


def _with_schema(source: JobInput, options: JobOptions) -> tuple[JobInput, JobOptions]:
    """The input and options with one schema: that of ``requests.from_rows(..., schema=...)``, or ``schema=``.

    Rows built without a schema are built with the option's (their requests then ask for it); rows built with
    one give it to the job; rows and option naming two schemas are refused before anything is sent.
    """
    from ..requests import RequestRows

    if not isinstance(source, RequestRows):
        return source, options
    given = options.get("schema")
    if source.schema is not None and given is None:
        return source, JobOptions(**{**options, "schema": source.schema})
    if given is not None and source.schema is None:
        return source.with_schema(given), options
    if given is not None and source.schema is not None and Schema.of(given) != source.schema:
        raise InputValidationError(
            "nothing was sent",
            [Problem("schema", "differs from the schema the rows were built with (from_rows(schema=...)): give one")],
        )
    return source, options


def _live_schema(options: JobOptions) -> Schema | None:
    given = options.get("schema")
    return Schema.of(given) if given is not None else None


def _checked_cap(value: Decimal | str | float | None) -> str | None:
    cap, problem = checked_max_cost(value)
    if problem is not None:
        raise InputValidationError("nothing was sent", [problem])
    return cap


def _name(source: JobInput) -> str:
    return str(source) if isinstance(source, str | os.PathLike) else "the requests"
