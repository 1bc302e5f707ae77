"""A job's status, read from its ledger (and the server's view of its running batches)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from .._model import JSONModel
from ..pricing import ModelUsage, PriceTable, TokenUsage
from .ledger import Ledger, ShardState

if TYPE_CHECKING:
    from ..types import Batch

__all__ = ["JobStatus", "job_status"]


@attrs.frozen
class JobStatus(JSONModel):
    """Where a job stands: its requests by outcome, its batches by status, attempts, tokens and cost.

    ``cost`` is in yuan at the vendor's batch prices (:class:`~siliconflow_batch.pricing.PriceTable`), None when
    a model used has no known price.
    """

    job_id: str
    total: int
    succeeded: int
    failed: int
    pending: int
    batches: Mapping[str, int] = attrs.field(factory=dict)
    """How many of the job's batches are in each status (``unsent``: not created yet)."""
    attempts: Mapping[int, int] = attrs.field(factory=dict)
    """How many requests took each number of attempts (0: not sent yet)."""
    usage: Mapping[str, ModelUsage] = attrs.field(factory=dict)
    cost: Decimal | None = None
    cancelled: bool = False
    running_done: int = 0
    """Requests that running batches report done (their ``request_counts``), whose results are not read yet."""

    @property
    def done(self) -> bool:
        """True once every request has a final outcome."""
        return self.pending == 0

    @property
    def progress(self) -> int:
        """Requests done: those with a final outcome, and those done inside batches still running."""
        return min(self.succeeded + self.failed + self.running_done, self.total)

    @property
    def resubmitted(self) -> int:
        """How many requests were sent more than once."""
        return sum(count for attempts, count in self.attempts.items() if attempts > 1)

    @property
    def input_tokens(self) -> int:
        """Input (prompt) tokens over every model."""
        return sum(u.input_tokens for u in self.usage.values())

    @property
    def output_tokens(self) -> int:
        """Output (completion) tokens over every model."""
        return sum(u.output_tokens for u in self.usage.values())

    def to_dict(self) -> dict[str, Any]:
        """The status as JSON-ready data (``cost`` as a decimal string)."""
        return {
            "job_id": self.job_id,
            "done": self.done,
            "cancelled": self.cancelled,
            "requests": {
                "total": self.total,
                "succeeded": self.succeeded,
                "failed": self.failed,
                "pending": self.pending,
            },
            "batches": dict(self.batches),
            "attempts": {str(k): v for k, v in self.attempts.items()},
            "resubmitted": self.resubmitted,
            "running_done": self.running_done,
            "usage": {
                model: {"requests": u.requests, "input_tokens": u.input_tokens, "output_tokens": u.output_tokens}
                for model, u in self.usage.items()
            },
            "cost": None if self.cost is None else str(self.cost),
        }

    def __str__(self) -> str:
        batches = ", ".join(f"{count} {status}" for status, count in self.batches.items()) or "none yet"
        cost = "unknown" if self.cost is None else f"{self.cost:.4f} yuan"
        return (
            f"job {self.job_id}: {self.succeeded + self.failed}/{self.total} done "
            f"({self.succeeded} ok, {self.failed} failed, {self.pending} pending); batches: {batches}; "
            f"resubmitted {self.resubmitted}; tokens {self.input_tokens} in / {self.output_tokens} out; cost {cost}"
        )


def job_status(
    ledger: Ledger, job_id: str, prices: PriceTable | None, seen: Mapping[int, Batch] | None = None
) -> JobStatus:
    """Read the job's status from its ledger; ``seen`` holds the server's view of running shards' batches."""
    counts = ledger.counts()
    batches = ledger.batches_by_status()
    running_done = ledger.running_done()
    if seen:
        batches, running_done = Counter(), 0
        for shard in ledger.shards():
            if shard.state is ShardState.DROPPED:
                continue
            batch = seen.get(shard.id)
            batches[str(batch.status) if batch is not None else shard.status or "unsent"] += 1
            if batch is not None and not batch.is_terminal:
                running_done += batch.counts.completed + batch.counts.failed
            elif shard.state is ShardState.CREATED:
                running_done += shard.done
        batches = dict(sorted(batches.items()))
    usage = TokenUsage()
    for model, requests, input_tokens, output_tokens in ledger.usage():
        usage.by_model[model] = ModelUsage(requests, input_tokens, output_tokens)
    return JobStatus(
        job_id=job_id,
        total=sum(counts.values()),
        succeeded=counts.get("ok", 0),
        failed=counts.get("failed", 0),
        pending=counts.get("pending", 0),
        batches=batches,
        attempts=ledger.attempts(),
        usage=dict(usage.by_model),
        cost=usage.cost(prices) if prices is not None else None,
        cancelled=bool(ledger.meta("cancelled")),
        running_done=running_done,
    )
