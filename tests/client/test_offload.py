"""Disk and SQLite work off the event loop (``_http.async_offload``): a cancel never unwinds under it."""

from __future__ import annotations

import asyncio
import threading

import pytest

from siliconflow_batch import _http


def test_a_caller_cancelled_during_offloaded_work_waits_for_the_thread_to_finish() -> None:
    started, release, finished = threading.Event(), threading.Event(), []

    def work() -> str:
        started.set()
        assert release.wait(10)  # a bound, not a timing: the test releases it
        finished.append("done")
        return "value"

    async def main() -> None:
        task = asyncio.ensure_future(_http.async_offload(work))
        assert await asyncio.to_thread(started.wait, 10)
        task.cancel()
        for _ in range(20):  # let the cancel reach the task, however many steps that takes
            await asyncio.sleep(0)
        assert not task.done()  # still waiting for the thread, which holds the ledger or the lock
        assert finished == []
        release.set()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert finished == ["done"]  # the caller unwound only after the work was over

    asyncio.run(main())


def test_offloaded_work_returns_its_value_and_raises_its_error() -> None:
    def fail() -> None:
        raise ValueError("disk full")

    async def main() -> None:
        assert await _http.async_offload(sum, [1, 2, 3]) == 6
        with pytest.raises(ValueError, match="disk full"):
            await _http.async_offload(fail)

    asyncio.run(main())
