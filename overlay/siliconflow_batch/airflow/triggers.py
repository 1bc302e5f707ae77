"""``SiliconFlowJobTrigger``: waits in Airflow's triggerer until every batch of a job has ended."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Sequence
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from siliconflow_batch import Batch, SiliconFlowError, WaitTimeoutError
from siliconflow_batch._defaults import DEFAULT_TRIGGER_POLL_INTERVAL

from .hooks import SiliconFlowHook

__all__ = ["SiliconFlowJobTrigger"]


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
    It polls as ``batches.wait_many`` does: a failure that may pass (a 5xx, a 429, a dropped connection, each
    already retried by the client; by ``siliconflow_batch``'s one classification) is polled again at the next
    interval, for as long as it lasts; a Retry-After is honoured.
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
        """Wait for every batch (``batches.wait_many``) until all have ended or the deadline passes; yield one event."""
        seen: dict[str, Batch] = {}
        try:
            hook = SiliconFlowHook(self.siliconflow_conn_id)
            async with await hook.get_async_conn() as client:
                if not self.batch_ids:
                    await asyncio.sleep(self._delay())
                    yield self._event("ended", seen)
                    return
                left = None if self.deadline is None else self.deadline - time.time()
                try:
                    if left is not None and left <= 0:  # started at or after its deadline: one look, then time
                        batches = [await client.batches.retrieve(batch_id) for batch_id in self.batch_ids]
                    else:
                        batches = await client.batches.wait_many(
                            self.batch_ids,
                            poll_interval=self.poll_interval,
                            timeout=left,
                            on_update=lambda batch: seen.__setitem__(batch.id, batch),
                            max_outage=math.inf,  # hours of waiting: a failure that may pass only costs a poll
                        )
                    seen.update((batch.id, batch) for batch in batches)
                except WaitTimeoutError:
                    pass  # the deadline: what was seen says which are still running
                running = ", ".join(i for i in self.batch_ids if i not in seen or not seen[i].is_terminal)
                if running:
                    yield self._event("timeout", seen, f"job {self.job_id}: batches still running: {running}")
                else:
                    yield self._event("ended", seen)
        except SiliconFlowError as error:  # its message never quotes the key
            yield self._event("error", seen, f"job {self.job_id}: polling its batches failed: {error}")

    def _delay(self) -> float:
        if self.deadline is None:
            return self.poll_interval
        return max(0.0, min(self.poll_interval, self.deadline - time.time()))

    def _event(self, status: str, seen: dict[str, Batch], message: str = "") -> TriggerEvent:
        return TriggerEvent(
            {
                "status": status,
                "message": message,
                "job_id": self.job_id,
                "batch_ids": list(self.batch_ids),
                "deadline": self.deadline,
                "statuses": {batch_id: str(batch.status) for batch_id, batch in seen.items()},
            }
        )
