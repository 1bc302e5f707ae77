"""A clock for tests: the client's sleeps return at once and move it forward, and the emulator can run on it."""

from __future__ import annotations

import threading
from contextlib import AbstractContextManager
from types import TracebackType
from typing import Self

from .. import _http

__all__ = ["VirtualClock"]


class VirtualClock:
    """Virtual time for tests of code that waits on batches: nothing really sleeps.

    ``with VirtualClock() as clock:`` makes every wait, poll interval, retry backoff and deadline of the
    package (sync and async) use this clock; each sleep returns at once and moves ``clock.now`` forward by
    its length, and ``clock.sleeps`` records them. Give the emulator the same clock,
    ``Emulator(clock=clock.time)``, and its batches advance as the client waits::

        with VirtualClock() as clock:
            emulator = Emulator(clock=clock.time, stage_seconds=60)
            ...
            client.batches.wait(batch.id, poll_interval=30)   # returns at once, clock.now moved on

    ``advance(seconds)`` moves time on by hand. The clock is process-wide while installed; leaving the block
    puts the previous one back.
    """

    def __init__(self, start: float = 1_700_000_000.0) -> None:
        self.now = start
        self.sleeps: list[float] = []
        self._lock = threading.Lock()
        self._installed: AbstractContextManager[_http.Clock] | None = None

    def time(self) -> float:
        """The current virtual time, in seconds: the client's wall time too (pass as ``Emulator(clock=clock.time)``)."""
        return self.now

    def monotonic(self) -> float:
        """The current virtual time, as the client's monotonic clock."""
        return self.now

    def advance(self, seconds: float) -> None:
        """Move time on by ``seconds`` without recording a sleep."""
        with self._lock:
            self.now += seconds

    def sleep(self, seconds: float) -> None:
        """Record a sleep and move time on by it, at once."""
        with self._lock:
            self.sleeps.append(seconds)
            self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        """As :meth:`sleep`, then let other tasks run once."""
        import asyncio

        self.sleep(seconds)
        await asyncio.sleep(0)

    def __enter__(self) -> Self:
        self._installed = _http.use_clock(self)
        self._installed.__enter__()
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._installed is not None:
            self._installed.__exit__(exc_type, exc, tb)
            self._installed = None

    def __repr__(self) -> str:
        return f"VirtualClock(now={self.now}, sleeps={len(self.sleeps)})"
