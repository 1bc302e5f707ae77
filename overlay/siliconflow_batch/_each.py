"""Doing one thing for each of many items: at most ``limit`` at a time (async), or in turn (sync).

The one place whose sync and async forms differ in kind: ``_async/`` calls ``async_each`` and ``async_gate``, and
unasync turns them into ``each`` and ``gate``. A failure stops the rest (cancelled where they are: every
step they take is recorded intent-first, so a stop at any await resumes exactly) and is raised as itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from contextlib import AbstractAsyncContextManager, AbstractContextManager, nullcontext
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import asyncio

__all__ = ["async_each", "async_gate", "each", "gate", "settle"]

T = TypeVar("T")


def each(items: Iterable[T], action: Callable[[T], object], limit: int) -> None:
    """``action`` on each item, in turn (``limit`` is the async form's)."""
    for item in items:
        action(item)


async def async_each(items: Iterable[T], action: Callable[[T], Awaitable[object]], limit: int) -> None:
    """``action`` on each item, at most ``limit`` at once, in the items' order of starting."""
    import asyncio  # not at module level: the sync client should not pay for it

    queue = iter(items)
    stop = False

    async def worker() -> None:
        for item in queue:  # one shared iterator: each item is taken by one worker
            if stop:
                return
            await action(item)

    tasks = [asyncio.ensure_future(worker()) for _ in range(max(1, limit))]
    try:
        await settle(tasks)
    finally:
        stop = True


def gate(limit: int) -> AbstractContextManager[object]:
    """Nothing to hold: the sync client does one thing at a time (``limit`` is the async form's)."""
    return nullcontext()


def async_gate(limit: int) -> AbstractAsyncContextManager[object]:
    """At most ``limit`` holders at once: the tasks that ``async_each`` runs share it for their requests."""
    import asyncio

    return asyncio.Semaphore(limit)


async def settle(tasks: Sequence[asyncio.Future[Any]]) -> None:
    """Wait for ``tasks`` until all are done or one fails; then cancel the rest, and raise the failure as itself.

    No task outlives the call, even when the caller itself is cancelled.
    """
    import asyncio

    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
    finally:
        for task in tasks:
            task.cancel()  # a no-op for the finished ones
        await asyncio.gather(*tasks, return_exceptions=True)
    for task in tasks:
        error = None if task.cancelled() else task.exception()
        if error is not None:
            raise error
