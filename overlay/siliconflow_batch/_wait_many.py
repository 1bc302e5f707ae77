"""Waiting for many batches: the one loop whose sync and async forms differ in kind, so each is written here.

The async form polls concurrently (bounded by a semaphore) and cancels the rest when one wait fails; the sync
form polls the batches in turn. Everything else, each poll included, is the resources' own generated code.
"""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from typing import TYPE_CHECKING, Protocol, Unpack

from . import _http
from ._each import settle
from ._exceptions import APIError
from ._options import PollOptions
from ._wait import WaitState

if TYPE_CHECKING:
    from .types import Batch

__all__ = ["async_wait_all", "wait_all"]


class _Polls(Protocol):
    def retrieve(self, batch_id: str, **options: Unpack[PollOptions]) -> Batch: ...


class _AsyncWaits(Protocol):
    async def _wait(
        self, state: WaitState, gate: AbstractAsyncContextManager[object], options: PollOptions
    ) -> Batch: ...


def wait_all(batches: _Polls, states: list[WaitState], max_concurrency: int, options: PollOptions) -> dict[str, Batch]:
    """Poll each batch in turn until all are terminal; the last batch seen of each, by id."""
    pending = list(states)
    while pending:
        for state in list(pending):
            try:
                with _http.deadline_scope(state.deadline):
                    batch = batches.retrieve(state.batch_id, **options)
                if state.observe(batch):
                    pending.remove(state)
            except APIError as error:
                state.failed(error)  # re-raised unless it may pass
        if pending:
            _http.sleep(min(state.next_delay() for state in pending))
    return {state.batch_id: state.last for state in states if state.last is not None}


async def async_wait_all(
    batches: _AsyncWaits, states: list[WaitState], max_concurrency: int, options: PollOptions
) -> dict[str, Batch]:
    """Wait for every batch at once, at most ``max_concurrency`` polls in flight; cancel the rest on a failure."""
    import asyncio  # not at module level: the sync client should not pay for it

    gate = asyncio.Semaphore(max_concurrency)
    tasks = [asyncio.ensure_future(batches._wait(state, gate, options)) for state in states]
    await settle(tasks)
    return {state.batch_id: task.result() for state, task in zip(states, tasks, strict=True)}
