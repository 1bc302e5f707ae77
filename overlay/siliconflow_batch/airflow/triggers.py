"""``SiliconFlowJobTrigger``: waits in Airflow's triggerer until every batch of a job has ended."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from siliconflow_batch import (
    APIConnectionError,
    AsyncSiliconFlow,
    InternalServerError,
    RateLimitError,
    SiliconFlowError,
)
from siliconflow_batch._defaults import DEFAULT_TRIGGER_POLL_INTERVAL

from .hooks import SiliconFlowHook

__all__ = ["SiliconFlowJobTrigger"]

# The client has retried these already; in a trigger that waits for hours they only cost a poll.
_PASSING = (APIConnectionError, InternalServerError, RateLimitError)


class SiliconFlowJobTrigger(BaseTrigger):
    """Polls a job's batches with :class:`~siliconflow_batch.AsyncSiliconFlow` until every one has ended.

    It holds plain values only (the job id, the batch ids, the poll interval and the deadline as a Unix time),
    so it is serialized to the metadata database and may run on another machine than the task. Any status
    other than a terminal one (``completed``, ``failed``, ``expired``, ``cancelled``) is running: ``in_queue``,
    and a status the vendor adds later, keep it waiting. It fires one event, a dict with ``status``:

    - ``"ended"``: every batch has ended (with no batch ids, after one poll interval: the task looks again, as
      it does while an ended batch's result files still answer 404, its grace kept in the job directory);
    - ``"timeout"``: the deadline passed first (the batches go on; the task fails, a retry re-attaches);
    - ``"error"``: the server refused the polls (a wrong key, a batch that is not there), with ``message``.

    Each event carries ``job_id``, ``batch_ids``, ``deadline`` and ``statuses`` (batch id -> last status seen).
    A 5xx or 429 (already retried by the client) or a dropped connection is polled again at the next interval.
    """

    def __init__(
        self,
        *,
        job_id: str,
        batch_ids: Sequence[str],
        siliconflow_conn_id: str = SiliconFlowHook.default_conn_name,
        poll_interval: float = DEFAULT_TRIGGER_POLL_INTERVAL,
        deadline: float | None = None,
    ) -> None:
        super().__init__()
        self.job_id: str = job_id
        self.batch_ids: list[str] = [str(batch_id) for batch_id in batch_ids]
        self.siliconflow_conn_id: str = siliconflow_conn_id
        self.poll_interval: float = float(poll_interval)
        self.deadline: float | None = None if deadline is None else float(deadline)
        self._answered = False

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The class path and the plain values that rebuild the trigger."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "job_id": self.job_id,
                "batch_ids": list(self.batch_ids),
                "siliconflow_conn_id": self.siliconflow_conn_id,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until every batch has ended or the deadline passes; yield one event."""
        statuses: dict[str, str] = {}
        ended: set[str] = set()
        self._answered = False  # a server that never answered (a wrong host or port) is an error at once
        try:
            hook = SiliconFlowHook(self.siliconflow_conn_id)
            async with await hook.get_async_conn() as client:
                if not self.batch_ids:
                    await asyncio.sleep(self._delay())
                while True:
                    running = await self._poll(client, statuses, ended)
                    if not running:
                        yield self._event("ended", statuses)
                        return
                    if self.deadline is not None and time.time() >= self.deadline:
                        yield self._event("timeout", statuses, f"job {self.job_id}: batches still running: "
                                          + ", ".join(running))  # fmt: skip
                        return
                    await asyncio.sleep(self._delay())
        except SiliconFlowError as error:  # its message never quotes the key
            yield self._event("error", statuses, f"job {self.job_id}: polling its batches failed: {error}")

    async def _poll(self, client: AsyncSiliconFlow, statuses: dict[str, str], ended: set[str]) -> list[str]:
        """Retrieve each batch not seen ended yet; the ids of those still running."""
        running: list[str] = []
        for batch_id in self.batch_ids:
            if batch_id in ended:
                continue
            try:
                batch = await client.batches.retrieve(batch_id)
            except _PASSING as error:
                if isinstance(error, APIConnectionError) and not self._answered:
                    raise
                self._answered = self._answered or not isinstance(error, APIConnectionError)
                self.log.warning("job %s: polling batch %s failed, will poll again: %s", self.job_id, batch_id, error)
                running.append(batch_id)
                continue
            self._answered = True
            statuses[batch_id] = str(batch.status)
            if batch.is_terminal:
                ended.add(batch_id)
            else:  # in_queue, in_progress, finalizing, ... and any status the vendor adds later
                running.append(batch_id)
        return running

    def _delay(self) -> float:
        if self.deadline is None:
            return self.poll_interval
        return max(0.0, min(self.poll_interval, self.deadline - time.time()))

    def _event(self, status: str, statuses: dict[str, str], message: str = "") -> TriggerEvent:
        return TriggerEvent(
            {
                "status": status,
                "message": message,
                "job_id": self.job_id,
                "batch_ids": list(self.batch_ids),
                "deadline": self.deadline,
                "statuses": dict(statuses),
            }
        )
