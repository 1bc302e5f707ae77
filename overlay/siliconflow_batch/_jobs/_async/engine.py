"""The engine of one job: advance it a round (send, poll, collect, cut), each call recorded intent-first.

Every call that changes the server is written to the ledger as intended before it is made and as done after,
so a process killed at any instant leaves a ledger from which the next one finds the outcome on the server
instead of repeating the call. The handle (``job.py``) and the resource (``_async/jobs.py``) drive it; recovery
(``recovery.py``) rebuilds its ledger from the server.
"""

from __future__ import annotations

import contextlib
import math
import shutil
import warnings
from dataclasses import replace
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING

from ... import _http
from ..._async.polling import persist
from ..._batch_logic import result_sources
from ..._defaults import DEFAULT_MAX_CONCURRENCY, DEFAULT_RESULT_GRACE, LIST_PAGE, SEND_RETRY_INTERVAL
from ..._each import async_each
from ..._exceptions import (
    APIError,
    BadRequestError,
    InputValidationError,
    InsufficientBalanceError,
    NotFoundError,
    PaginationError,
    PaymentRequiredError,
    SiliconFlowError,
)
from ..._problem import Problem
from ..._results import Source as ResultSource
from ..._wait import WaitState
from ...estimate import Tally
from ...pricing import PriceTable
from ...structured import Schema
from ...validation import CHAT_COMPLETIONS
from ..input import SHARD_DIR, SPOOL_NAME, FirstCut, JobInput, form_shards, shard_path, spool
from ..ledger import LEDGER_NAME, UNSENT, Ledger, ShardRow, ShardState, lock_job_dir
from ..money import BUDGET, committed, job_prices
from ..outcomes import CANCELLED, ingest
from ..settings import JobSettings, Plan, idempotency_key, tags
from ..status import JobStatus, job_status

if TYPE_CHECKING:
    from ..._async.client import AsyncSiliconFlow
    from ...types import Batch

__all__ = ["AsyncEngine"]


class AsyncEngine:
    """One job directory's ledger, lock and server calls."""

    def __init__(self, client: AsyncSiliconFlow, job_dir: Path) -> None:
        self.dir = job_dir
        self.dir.mkdir(parents=True, exist_ok=True)
        self.client = client
        self.ledger = Ledger(self.dir / LEDGER_NAME)
        self.concurrency = DEFAULT_MAX_CONCURRENCY  # uploads-and-creates, and downloads, in flight at once
        self.result_grace = DEFAULT_RESULT_GRACE
        self._held: IO[bytes] | None = None
        self._prices: PriceTable | None = None
        self._priced = False  # whether _prices was looked for
        self._pages = True  # whether the server's batch list pages (else each active batch is retrieved)
        self._known: JobSettings | None = None
        self._schema: Schema | None = None  # the replies' schema, once read (or given live: its pydantic model)
        self._schema_read = False
        self._started: float | None = None  # started_at, once read (_started_read)
        self._started_read = False

    @property
    def id(self) -> str:
        """The job's id, carried in every one of its batches' metadata (the directory's name before it starts)."""
        if self._known is None and self.ledger.meta("settings") is None:
            return self.dir.name
        return self.settings.job_id

    @property
    def settings(self) -> JobSettings:
        """What the job was started with."""
        if self._known is None:
            self._known = JobSettings.from_json(self.ledger.meta("settings"))
        return self._known

    @property
    def schema(self) -> Schema | None:
        """The schema the job's replies must fit (None: none), from its settings, or as given to this process."""
        if not self._schema_read:
            self._schema = self.settings.reply_schema
            self._schema_read = True
        return self._schema

    def use_schema(self, schema: Schema | None) -> None:
        """Use ``schema`` (the same one the job keeps, given in this process: its model class, not re-imported)."""
        if schema is not None and schema == self.settings.reply_schema:
            self._schema, self._schema_read = schema, True

    @property
    def started_at(self) -> float | None:
        """When the job was first prepared (wall time, seconds since the epoch); None for a job from before."""
        if not self._started_read:
            value = self.ledger.meta("started_at")
            self._started = float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None
            self._started_read = True
        return self._started

    def forget_start(self) -> None:
        """Read ``started_at`` from the ledger again (recovery sets it to the first batch's creation)."""
        self._started_read = False

    def lock(self) -> None:
        """Take the directory's lock (JobLockedError if another process holds it); kept until ``close``."""
        if self._held is None:
            self._held = lock_job_dir(self.dir)

    def close(self) -> None:
        """Release the lock and close the ledger (the id stays readable)."""
        if self._known is None and self.ledger.meta("settings") is not None:
            self._known = self.settings
        _ = self.started_at  # kept readable too
        if self._held is not None:
            self._held.close()
            self._held = None
        self.ledger.close()

    @property
    def prices(self) -> PriceTable | None:
        """The job's prices: those it began with (kept in its ledger), else the current ones (None: unreadable)."""
        if not self._priced:
            self._prices = job_prices(self.ledger)
            if self._prices is None:
                with contextlib.suppress(SiliconFlowError):  # a broken price file only loses the cost
                    self._prices = PriceTable.load()
            self._priced = self._prices is not None or self.ledger.ready()
        return self._prices

    async def status(self, *, refresh: bool) -> JobStatus:
        """The job's status; with ``refresh``, its running batches as the server has them now."""
        seen: dict[int, Batch] = {}
        if refresh:
            seen = await self.look(await _http.async_offload(self.ledger.shards, ShardState.CREATED))
        return await _http.async_offload(job_status, self.ledger, self.id, self.prices, seen)

    # --- preparing ------------------------------------------------------------------------------------------------

    def prepare(self, source: JobInput, settings: JobSettings, name: str, prices: PriceTable | None = None) -> None:
        """Spool the input and cut the first shards, in one transaction: all of it, or (on any problem) none.

        The job keeps ``prices`` (else the current ones, :meth:`PriceTable.load`), and the estimate of its whole
        input at them: each shard records the upper bound of its cost, which a cap is checked against. It keeps
        when it began (``started_at``, the client's wall time), so that a resumed job's elapsed time goes on.
        """
        self.ledger.reset()
        self._known, self._started_read = None, False
        if prices is None:
            try:
                prices = PriceTable.load()
            except SiliconFlowError:
                if settings.max_cost is not None:  # a cap needs prices; without one, only the cost is lost
                    raise
        self._prices, self._priced = prices, True
        try:
            with self.ledger.transaction():
                tally = Tally(prices, replace_model=settings.replace_model) if prices is not None else None
                # The first cut is made as the input is spooled: each line read, checked and estimated once.
                first = self.ledger.next_shard_id()
                plan = Plan.of(settings, first=first, parents=()).encode()
                cut = FirstCut(settings.job_id, settings.limits, settings.replace_model, first, plan, tally)
                sha, problems = spool(source, self.dir, self.ledger, cut)
                self.ledger.set_meta(settings=settings.to_json(), input_sha256=sha, started_at=_http.wall_time())
                if prices is not None:
                    self.ledger.set_meta(prices=prices.to_data())
                if tally is not None:
                    made = tally.estimate()
                    self.ledger.set_meta(estimate=made.to_dict())
                    if settings.max_cost is not None and made.unpriced:
                        problems.append(Problem(
                            "max_cost", f"a cap needs a price for every model; {', '.join(made.unpriced)} has none "
                            f"in {prices.source if prices is not None and prices.source else 'the price file'}"
                            " (give a price file that has it)"
                        ))  # fmt: skip
                problems = sorted(problems, key=lambda p: (p.line or 0, p.field))
                if problems:
                    raise InputValidationError(f"{name} has problems; nothing was sent", problems)
        except BaseException:
            (self.dir / SPOOL_NAME).unlink(missing_ok=True)
            shutil.rmtree(self.dir / SHARD_DIR, ignore_errors=True)
            raise

    async def check_balance(self, required: bool) -> None:
        """Warn (or with ``required``, refuse) when the recharged balance, which pays for batches, is zero."""
        try:
            account = await self.client.account.retrieve()
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
                self.ledger.reset()
                raise InsufficientBalanceError(message + "; nothing was created")
            warnings.warn(message, stacklevel=3)

    def cut_from(self, parents: tuple[int, ...], first: int, tally: Tally | None = None) -> list[Problem]:
        """Cut the requests that ``parents`` sent back (0: the first cut's) into shards numbered from ``first``.

        Each shard records the upper bound of its cost at the job's prices (counted in ``tally`` when given).
        """
        if tally is None and self.prices is not None:
            tally = Tally(self.prices, replace_model=self.settings.replace_model)
        settings = self.settings
        plan = Plan.of(settings, first=first, parents=tuple(p for p in parents if p))
        return form_shards(
            self.ledger,
            self.dir,
            self.id,
            settings.limits,
            settings.replace_model,
            parents=parents,
            first=first,
            plan=plan.encode(),
            tally=tally,
        )

    def _cut(self) -> list[Problem]:
        """Cut new shards from every request waiting for one (those to send again; the first cut is the spool's).

        One cut per group of the shards that sent requests back, each recorded in its shards' plan.
        """
        problems: list[Problem] = []
        for parents in Plan.groups(self.ledger.waiting_parents(), self.settings):
            problems += self.cut_from(parents, self.ledger.next_shard_id())
        return problems

    def _cut_waiting(self) -> None:
        """Cut shards for what is to be sent again, in one transaction (off the loop: it writes shard files)."""
        with self.ledger.transaction():
            problems = self._cut()
            if problems:  # pragma: no cover - these lines fitted in a shard when the job began
                raise InputValidationError("a resubmitted request does not fit in a shard", problems)

    # --- the loop ---------------------------------------------------------------------------------------------------

    async def advance(self) -> None:
        """One round: send, poll, collect what ended, cut shards for what is to be sent again, send those."""
        await self._send_all()
        # A cancel that a crash cut short, or that another process made, is finished here.
        if await _http.async_offload(self.ledger.cancelled):
            await self.finish_cancel()
        await self._poll()
        await self.collect_ended()
        if not await _http.async_offload(self.ledger.cancelled):
            await _http.async_offload(self._cut_waiting)
            await self._send_all()

    async def send_patiently(self, max_outage: float) -> None:
        """Send every unsent shard, through transient failures (``persist``): each shard sent is an answer."""
        timer = WaitState(
            self.id, poll_interval=SEND_RETRY_INTERVAL, timeout=None, on_update=None, max_outage=max_outage,
            subject=f"job {self.id}",
        )  # fmt: skip

        async def send() -> bool:
            await self._send_all(timer)
            return True

        await persist(send, timer)

    # --- sending ----------------------------------------------------------------------------------------------------

    async def _send_all(self, timer: WaitState | None = None) -> None:
        """Send every unsent shard, ``concurrency`` at a time (each one recorded intent-first)."""

        async def send(shard: ShardRow) -> None:
            # Checked before each shard: a cancel from another process stops the sending.
            if await _http.async_offload(self.ledger.cancelled):
                return
            await self._send(shard)
            if timer is not None:
                timer.progressed(shard.id)

        await async_each(await _http.async_offload(self.ledger.shards, *UNSENT), send, self.concurrency)

    async def _send(self, shard: ShardRow) -> None:
        """Upload the shard's file and create its batch, each recorded as intended before and as done after."""
        try:
            await self._upload_and_create(shard)
        except BadRequestError as refused:  # the server will refuse it again: its requests fail, the job goes on
            await _http.async_offload(self.ledger.refuse, shard.id, str(refused))
        except PaymentRequiredError as refused:  # nothing was created; the intent stays, so a resume creates it once
            raise InsufficientBalanceError(await self._paused(shard)) from refused

    async def _paused(self, shard: ShardRow) -> str:
        """The one line that says why the job stopped at ``shard`` and how it goes on."""
        balance = ""
        with contextlib.suppress(APIError):
            account = await self.client.account.retrieve()
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
        # Each transition runs off the event loop (its commit waits for the disk); unasync makes it a plain call.
        if state is ShardState.WRITTEN and not await _http.async_offload(self._intend, shard, None):
            return  # no room under the cap: nothing is uploaded either
        if state is ShardState.UPLOADING and file_id is None:  # an upload that may have happened before a crash
            file_id = await self._uploaded(path, shard.bytes)
        if state is not ShardState.CREATING:
            if file_id is None:
                file_id = (await self.client.files.upload(path, validate=False)).id
            if not await _http.async_offload(self._intend, shard, file_id):
                return
        assert file_id is not None
        settings, sha = self.settings, str(await _http.async_offload(self.ledger.meta, "input_sha256"))
        # The key makes the create happen once: after a crash between the call and its record, the intent is
        # still CREATING and the batch is looked for before anything is sent (look_first).
        batch = await self.client.batches.create(
            input_file_id=file_id,
            completion_window=settings.completion_window,
            endpoint=CHAT_COMPLETIONS,
            metadata={**settings.metadata, **tags(self.id, sha, shard)},
            replace_model=settings.replace_model,
            idempotency_key=idempotency_key(self.id, shard.id),
            look_first=state is ShardState.CREATING,
        )
        await _http.async_offload(self.record, shard, batch)

    def _intend(self, shard: ShardRow, file_id: str | None) -> bool:
        """Record the shard's next intent, UPLOADING (no file yet) or CREATING, if the cap admits it.

        The cap is checked in the transaction that records the intent: once CREATING, the shard's bound counts as
        committed, so no crash and no other shard sent at once can take the job past it.
        """
        with self.ledger.transaction():
            if not self._admit(shard, file_id):
                return False
            if file_id is None:
                self.ledger.uploading(shard.id)
            else:
                self.ledger.creating(shard.id, file_id)
            return True

    def _admit(self, shard: ShardRow, file_id: str | None) -> bool:
        """Whether the shard's create fits under the job's cap (``max_cost``), with what is committed now.

        A shard that does not fit waits while other batches are in flight (their bounds become what they
        spent, which is less); with none in flight, it is held back (``HELD``), and so is every shard not yet
        being created: their requests end with outcome ``budget`` until a higher cap sends them.
        """
        cap = self.settings.cap
        if cap is None:
            return True
        current = self.ledger.shard(shard.id)
        if current is None or current.state not in (ShardState.WRITTEN, ShardState.UPLOADING):
            return False  # held meanwhile (another shard sent at once found no room)
        money = committed(self.ledger, self.prices)
        if shard.bound is not None and money.committed is not None and money.committed + Decimal(shard.bound) <= cap:
            return True
        if self.ledger.in_flight():
            if file_id is not None:
                self.ledger.uploaded(shard.id, file_id)
            return False
        held = [s.id for s in self.ledger.shards(ShardState.WRITTEN, ShardState.UPLOADING)]
        _http.logger.warning(
            "job %s: shard %s would take the committed cost %s past the cap of %s yuan: %d shards held back",
            self.id, shard.id, money.committed, cap, len(held),
        )  # fmt: skip
        self.ledger.hold(held, BUDGET)
        return False

    def raise_cap(self, max_cost: str | None) -> None:
        """A new cap for the job (None: none); what the old one held back is sent again, under the new one."""
        settings = replace(self.settings, max_cost=max_cost)
        with self.ledger.transaction():
            self.ledger.set_meta(settings=settings.to_json())
            self.ledger.release_held()
        self._known = settings

    async def _uploaded(self, path: Path, size: int) -> str | None:
        """The id of the shard's file if an earlier upload of it reached the server (the newest 100 files)."""
        for file in await self.client.files.list(limit=LIST_PAGE):
            if file.filename == path.name and file.bytes == size:
                return file.id
        return None

    # --- following --------------------------------------------------------------------------------------------------

    def record(self, shard: ShardRow, batch: Batch) -> None:
        """Record what a poll or a create saw of the shard's batch: its status, and once it ended, its files."""
        status = str(batch.status)
        counts = batch.counts
        done = counts.completed + counts.failed
        refs = dict(result_sources(batch))
        if batch.is_terminal and (refs or not done or self._grace_over(shard.id, "files")):
            self.ledger.ended(shard.id, batch.id, status, refs.get("output"), refs.get("error"))
        elif shard.state is not ShardState.CREATED or shard.status != status or shard.done != done:
            # A batch that ended with results but no file named yet (the vendor's can, briefly) is polled again.
            self.ledger.created(shard.id, batch.id, status, done)

    def _grace_over(self, shard_id: int, what: str) -> bool:
        """Whether a shard's result files have been missing (``what``) for longer than ``result_grace``.

        The first miss is kept in the ledger, in wall time, so the grace goes on across processes (a resumed
        job, or an orchestrator's task deferred in between) instead of starting over in each.
        """
        now = _http.wall_time()
        since = self.ledger.missed_files(shard_id, now)
        if now - since < self.result_grace:
            return False
        _http.logger.warning("job %s, shard %s: result files still %s after %g s", self.id, shard_id, what,
                             self.result_grace)  # fmt: skip
        return True

    async def _poll(self) -> None:
        """One look at every active batch.

        Where the server pages, one list request per 100 active batches (ceil(n/100) + 1 at most), then a
        retrieve for each batch the pages did not show.
        """
        active = await _http.async_offload(self.ledger.shards, ShardState.CREATED)
        seen = await self.look(active)
        for shard in active:
            await _http.async_offload(self.record, shard, seen[shard.id])

    async def look(self, active: list[ShardRow]) -> dict[int, Batch]:
        """The server's view of these shards' batches, by shard (one list request per 100, else a retrieve each)."""
        seen: dict[str, Batch] = {}
        wanted = {shard.batch_id for shard in active}
        if len(active) > 1 and self._pages:
            budget = math.ceil(len(active) / LIST_PAGE) + 1
            try:
                async for page in self.client.batches.list(limit=LIST_PAGE).iter_pages():
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
            found[shard.id] = batch if batch is not None else await self.client.batches.retrieve(shard.batch_id)
        return found

    # --- collecting -------------------------------------------------------------------------------------------------

    async def collect_ended(self) -> None:
        """Download the ended shards' result files, several at a time, then read them one shard at a time."""
        ended = await _http.async_offload(self.ledger.shards, ShardState.ENDED)
        await async_each(ended, self.download, self.concurrency)
        for shard in ended:  # each ingest is one transaction
            await self.collect(shard)

    def _result_files(self, shard: ShardRow) -> list[tuple[ResultSource, str, Path]]:
        """Each result file of an ended shard: (source, the server's id or URL, where it is kept)."""
        results = self.dir / "results"
        stem = shard_path(self.dir, self.id, shard.id).stem
        refs: tuple[tuple[ResultSource, str | None], ...] = (("output", shard.output_ref), ("error", shard.error_ref))
        return [(source, ref, results / f"{stem}.{source}.jsonl") for source, ref in refs if ref]

    async def download(self, shard: ShardRow) -> None:
        """Download an ended batch's result files that are not here yet (each atomically, once)."""
        (self.dir / "results").mkdir(exist_ok=True)
        for _, ref, path in self._result_files(shard):
            if path.exists():
                continue
            try:
                await self.client.files.download(ref, path)
            except NotFoundError:  # the vendor's result files can 404 just after the batch ends
                await _http.async_offload(self.ledger.missed_files, shard.id, _http.wall_time())  # collect decides

    async def collect(self, shard: ShardRow) -> None:
        """Read an ended batch's downloaded result files into the ledger, once every file is here.

        A file still missing (it answered 404) is waited for until ``result_grace`` has passed; then its lines
        count as missing, and are sent again.
        """
        files: list[tuple[ResultSource, Path]] = []
        for source, _, path in self._result_files(shard):
            if path.exists():
                files.append((source, path))
            elif not await _http.async_offload(self._grace_over, shard.id, source):
                return  # the next round downloads it again
        # A batch cancelled by someone else is retried; once this job is cancelled, nothing is.
        settings, cancelled = self.settings, await _http.async_offload(self.ledger.cancelled)
        await _http.async_offload(
            ingest, self.ledger, shard, files, settings.max_attempts, cancelled, self.schema, settings.resubmit_invalid
        )

    # --- cancelling -------------------------------------------------------------------------------------------------

    async def finish_cancel(self) -> None:
        """Drop what was never sent and cancel what runs (again after a crash, or after another process's cancel)."""
        for shard in await _http.async_offload(self.ledger.shards, ShardState.CREATING):  # a create that may have
            found = await self.client.batches.find(idempotency_key(self.id, shard.id))  # happened: find out
            if found is not None:
                await _http.async_offload(self.ledger.created, shard.id, found.id, str(found.status))
        unsent = await _http.async_offload(self.ledger.shards, *UNSENT)
        await _http.async_offload(self.ledger.drop, [shard.id for shard in unsent], CANCELLED)
        await self.cancel_running(record=True)

    async def cancel_running(self, *, record: bool) -> None:
        """Ask the server to cancel each running batch not yet seen cancelling (again, after a crash)."""
        for shard in await _http.async_offload(self.ledger.shards, ShardState.CREATED):
            if shard.status in ("cancelling", "cancelled"):
                continue
            assert shard.batch_id is not None
            try:
                batch = await self.client.batches.cancel(shard.batch_id)
            except BadRequestError:  # it ended meanwhile: the next poll sees how
                continue
            if record:
                await _http.async_offload(self.ledger.saw_status, shard.id, str(batch.status))
