"""The polling rules shared by ``wait`` and ``wait_many``, sync and async."""

from __future__ import annotations

from collections.abc import Callable

from . import _http
from ._exceptions import APIConnectionError, InternalServerError, RateLimitError, WaitTimeoutError
from .types import Batch, RequestCounts

__all__ = ["TRANSIENT", "OnUpdate", "WaitState"]

OnUpdate = Callable[[Batch], object]
# Errors that do not end a wait: the next poll may well succeed (each was already retried by the sender).
TRANSIENT = (APIConnectionError, InternalServerError, RateLimitError)


class WaitState:
    """One batch being waited on: its deadline, the last batch seen, and when to tell ``on_update``."""

    def __init__(self, batch_id: str, *, poll_interval: float, timeout: float | None, on_update: OnUpdate | None):
        if poll_interval < 0:
            raise ValueError(f"poll_interval must be >= 0, got {poll_interval}")
        self.batch_id = batch_id
        self.poll_interval = poll_interval
        self.deadline = None if timeout is None else _http.monotonic() + timeout
        self.on_update = on_update
        self.last: Batch | None = None
        self._last_key: tuple[str, RequestCounts] | None = None

    def observe(self, batch: Batch) -> bool:
        """Take a polled batch; fire ``on_update`` on a change of status or counts; True once terminal."""
        key = (str(batch.status), batch.counts)
        self.last = batch
        if key != self._last_key:
            self._last_key = key
            if self.on_update is not None:
                self.on_update(batch)
        return batch.is_terminal

    def failed(self, error: Exception) -> None:
        """A poll failed with a transient error: log it and keep waiting."""
        _http.logger.warning("polling batch %s failed, will poll again: %s", self.batch_id, error)

    def next_delay(self) -> float:
        """Seconds until the next poll; raises WaitTimeoutError once the deadline has passed."""
        if self.deadline is None:
            return self.poll_interval
        remaining = self.deadline - _http.monotonic()
        if remaining <= 0:
            status = f"status {self.last.status}" if self.last is not None else "no successful poll"
            raise WaitTimeoutError(
                f"batch {self.batch_id} is not done after the wait timeout ({status})", batch=self.last
            )
        return min(self.poll_interval, remaining)
