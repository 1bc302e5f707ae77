"""The polling rules shared by ``wait`` and ``wait_many``, sync and async."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from . import _http
from ._defaults import DEFAULT_MAX_OUTAGE
from ._exceptions import APIConnectionError, APIResponseValidationError, APIStatusError, WaitTimeoutError
from ._failures import may_pass
from ._retry import MAX_RETRY_AFTER, retry_after

if TYPE_CHECKING:
    from .types import Batch

__all__ = ["OnUpdate", "WaitState"]

OnUpdate = Callable[["Batch"], object]
# With max_poll_interval, each poll that shows no change stretches the interval by this much, up to that cap.
BACKOFF = 1.5


class WaitState:
    """One batch being waited on: its deadline, the last batch seen, and when to tell ``on_update``.

    ``deadline`` bounds the whole wait, the requests inside each poll included (see ``_http.deadline_scope``).
    A poll that cannot reach the server before it has ever answered ends the wait at once (a wrong host or
    port); once it has answered, failures are tolerated for ``max_outage`` seconds in a row.
    """

    def __init__(
        self,
        batch_id: str,
        *,
        poll_interval: float,
        timeout: float | None,
        on_update: OnUpdate | None,
        max_outage: float = DEFAULT_MAX_OUTAGE,
        max_poll_interval: float | None = None,
        subject: str | None = None,
    ):
        settings = (("poll_interval", poll_interval), ("timeout", timeout), ("max_outage", max_outage))
        for name, value in (*settings, ("max_poll_interval", max_poll_interval)):
            if value is not None and not value >= 0:  # `not >=` also refuses nan
                raise ValueError(f"{name} must be >= 0 seconds, got {value}")
        self.batch_id = batch_id
        self.subject = subject if subject is not None else f"batch {batch_id}"  # what the messages name
        self.poll_interval = poll_interval
        self.deadline = None if timeout is None else _http.monotonic() + timeout
        self.on_update = on_update
        self.max_outage = max_outage
        self.max_poll_interval = max(max_poll_interval, poll_interval) if max_poll_interval is not None else None
        self._interval = poll_interval
        self._hold = 0.0  # a Retry-After the server asked for, honoured by the next delay
        self.last: Batch | None = None
        self._last_key: object = None
        self._answered = False
        self._failing_since: float | None = None

    def observe(self, batch: Batch) -> bool:
        """Take a polled batch; fire ``on_update`` on a change of status or counts; True once terminal."""
        self.last = batch
        if self.progressed((str(batch.status), batch.counts)) and self.on_update is not None:
            self.on_update(batch)
        return batch.is_terminal

    def progressed(self, key: object) -> bool:
        """Take a successful poll whose state is ``key``; True when it differs from the last one.

        A change brings the interval back to ``poll_interval``; no change stretches it (``max_poll_interval``).
        """
        self._answered, self._failing_since = True, None
        if key != self._last_key:
            self._last_key = key
            self._interval = self.poll_interval  # something moved: look again soon
            return True
        if self.max_poll_interval is not None:  # nothing moved: look a little later each time
            self._interval = min(self._interval * BACKOFF, self.max_poll_interval)
        return False

    def failed(self, error: Exception) -> None:
        """A poll failed: log it and keep waiting, or re-raise it when waiting is futile.

        A failure that the next poll cannot mend (a final one, by ``_failures``: a 4xx, a 402) is re-raised at
        once; one that may pass (each already retried by the sender) is waited out for ``max_outage``.
        """
        if not may_pass(error):
            raise error
        if isinstance(error, APIResponseValidationError) and self.last is None:
            # No poll has ever been understood: an answer that is not the API's (an HTML page at a wrong base URL,
            # a proxy's login page) does not heal by polling.
            error.add_note(f"waiting for {self.subject}: the answer is not the API's; check the base URL")
            raise error
        if self.deadline is not None and _http.monotonic() >= self.deadline:
            return  # next_delay() raises the WaitTimeoutError
        if isinstance(error, APIStatusError):
            self._answered = True  # an error status is an answer: the host is right
            asked = retry_after(error.response.headers)
            self._hold = min(asked, MAX_RETRY_AFTER) if asked is not None else 0.0
        elif isinstance(error, APIConnectionError) and not self._answered:
            # Never reached the server: a wrong host or port does not heal by polling.
            error.add_note(f"waiting for {self.subject}: the server never answered; check the base URL")
            raise error
        now = _http.monotonic()
        if self._failing_since is None:
            self._failing_since = now
        elif now - self._failing_since >= self.max_outage:
            error.add_note(
                f"waiting for {self.subject}: every poll failed for {now - self._failing_since:.0f} s "
                f"(max_outage {self.max_outage:g} s)"
            )
            raise error
        _http.logger.warning("polling %s failed, will poll again: %s", self.subject, error)

    def next_delay(self) -> float:
        """Seconds until the next poll, at least a Retry-After the server asked for.

        Raises WaitTimeoutError once the deadline has passed.
        """
        delay, self._hold = max(self._interval, self._hold), 0.0
        if self.deadline is None:
            return delay
        remaining = self.deadline - _http.monotonic()
        if remaining <= 0:
            status = (
                f"status {self.last.status}"
                if self.last is not None
                else "still running"
                if self._answered
                else "no successful poll"
            )
            raise WaitTimeoutError(f"{self.subject} is not done after the wait timeout ({status})", batch=self.last)
        return min(delay, remaining)
