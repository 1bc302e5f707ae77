"""Rebuilding a job whose ledger was lost, from its input and the server's batches alone.

Each batch's metadata names its job, input, shard, attempt and the cut that made it (``settings.Plan``): the
job is cut again, cut by cut, and each server batch attached to the shard it belongs to. No input file is read
back (the vendor does not serve them); the parents' result files are.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from ... import _http
from ..._batch_logic import metadata_value
from ..._defaults import LIST_PAGE
from ..._exceptions import JobError, PaginationError
from ...types import timestamp_datetime
from ..ledger import ShardState
from ..settings import TAG_ATTEMPT, TAG_INPUT, TAG_JOB, TAG_PLAN, TAG_SHARD, Plan

if TYPE_CHECKING:
    from ...types import Batch
    from .engine import AsyncEngine

__all__ = ["replay", "tagged_batches"]


async def tagged_batches(
    engine: AsyncEngine, job_id: str, input_sha256: str, batch_ids: Sequence[str]
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
        async for batch in engine.client.batches.list(limit=LIST_PAGE):
            take(batch)
    except PaginationError:  # the list ignores its cursor: only its first page was seen
        complete = False
    for batch_id in batch_ids:
        batch = await engine.client.batches.retrieve(batch_id)
        if not take(batch):
            raise JobError(f"batch {batch_id} is not one of job {job_id}'s batches for this input")
    return seen, complete


async def replay(engine: AsyncEngine, seen: dict[int, Batch], complete: bool) -> None:
    """Rebuild the shards from the server's batches: the first cut (``prepare`` made it), then each later one.

    Each later cut is made again once the results of the shards it took requests from are read. The ledger's
    work runs off the event loop, as the engine's does.
    """
    ledger = engine.ledger
    await _http.async_offload(_began, engine, seen)
    cuts: set[tuple[int, tuple[int, ...]]] = set()
    for batch in seen.values():
        plan = Plan.decode(metadata_value(batch, TAG_PLAN))
        assert plan is not None  # recovered_settings refused batches without one
        if plan.parents:
            cuts.add((plan.first, plan.parents))
    await _http.async_offload(_attach, engine, seen)
    for first, parents in sorted(cuts):
        for parent in parents:
            shard = await _http.async_offload(ledger.shard, parent)
            if shard is None or shard.state in (ShardState.WRITTEN, ShardState.CREATED):
                raise JobError(
                    f"shard {parent} of job {engine.id} sent requests to shard {first}, but "
                    + ("its batch is not among those the server lists" + _unseen_hint(complete)
                       if shard is None or shard.state is ShardState.WRITTEN
                       else f"its batch {shard.batch_id} is still {shard.status}")
                )  # fmt: skip
            if shard.state is ShardState.ENDED:
                await engine.download(shard)
                await engine.collect(shard)
                now = await _http.async_offload(ledger.shard, parent)
                if now is not None and now.state is ShardState.ENDED:  # a result file answered 404: not read yet
                    raise JobError(
                        f"the result files of shard {parent} of job {engine.id} cannot be read yet; "
                        "run recover again in a few minutes"
                    )
        await _http.async_offload(_cut_again, engine, parents, first)
        await _http.async_offload(_attach, engine, seen)
    await _http.async_offload(_check_replayed, engine, seen, complete)


def _began(engine: AsyncEngine, seen: dict[int, Batch]) -> None:
    """The job began with its first batch, not with its recovery: record when that was."""
    created = [when.timestamp() for batch in seen.values() if (when := timestamp_datetime(batch.created_at))]
    if created and (engine.started_at is None or min(created) < engine.started_at):
        engine.ledger.set_meta(started_at=min(created))
        engine.forget_start()


def _cut_again(engine: AsyncEngine, parents: tuple[int, ...], first: int) -> None:
    """Make again the cut that sent ``parents``' requests to shards from ``first`` on (it writes shard files)."""
    with engine.ledger.transaction():
        if engine.ledger.next_shard_id() > first:
            raise JobError(_not_from_this_input(engine.id, first))
        engine.cut_from(parents, first)


def _check_replayed(engine: AsyncEngine, seen: dict[int, Batch], complete: bool) -> None:
    """Every server batch found its shard, and no shard may have a batch that the server's list did not show."""
    for shard_id in seen:
        shard = engine.ledger.shard(shard_id)
        if shard is None or shard.batch_id is None:
            raise JobError(_not_from_this_input(engine.id, shard_id))
    unseen = [shard.id for shard in engine.ledger.shards(ShardState.WRITTEN)]
    if unseen and not complete:
        raise JobError(
            f"shards {', '.join(map(str, unseen))} of job {engine.id} may have batches that the server's list "
            f"did not show{_unseen_hint(False)}"
        )


def _attach(engine: AsyncEngine, seen: dict[int, Batch]) -> None:
    """Record each server batch on the replayed shard it belongs to (which must be that batch's own cut)."""
    for shard in engine.ledger.shards(ShardState.WRITTEN):
        batch = seen.get(shard.id)
        if batch is None:
            continue
        if metadata_value(batch, TAG_ATTEMPT) != str(shard.attempt) or metadata_value(batch, TAG_PLAN) != shard.plan:
            raise JobError(_not_from_this_input(engine.id, shard.id))
        engine.ledger.found_file(shard.id, batch.input_file_id)
        engine.record(shard, batch)


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
