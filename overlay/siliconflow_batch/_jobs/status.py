"""A job's status, read from its ledger (and the server's view of its running batches)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from decimal import Decimal
from typing import TYPE_CHECKING, Any

import attrs

from .._model import JSONModel
from ..estimate import Estimate
from ..pricing import ModelUsage, PriceTable, TokenUsage
from ..structured import Schema
from .ledger import Ledger, ShardState
from .money import ModelMoney, committed, estimate_from_data

if TYPE_CHECKING:
    from ..types import Batch

__all__ = ["JobBatch", "JobStatus", "job_batches", "job_status"]


@attrs.frozen
class JobStatus(JSONModel):
    """Where a job stands: its requests by outcome, its batches by status, attempts, tokens and cost.

    ``cost`` (also ``spent``) is in yuan at the job's batch prices (:class:`~siliconflow_batch.pricing.PriceTable`):
    the usage of every result line read, the finished part of an expired batch included (the vendor bills it);
    None when a model used has no known price. ``committed`` adds the upper bound of every batch in flight;
    ``max_cost`` is the job's cap, and ``budget`` counts the requests it held back (outcome ``budget``: a higher
    cap sends them). ``estimate`` is the one made of the whole input when the job began; ``money`` has each
    model's spent, committed and estimated cost.
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
    budget: int = 0
    """Requests held back by the cap (``max_cost``): never sent, ended with outcome ``budget``."""
    committed: Decimal | None = None
    """Spent, plus the upper bound of every batch that may exist and whose results are not read (yuan)."""
    max_cost: Decimal | None = None
    """The job's cap (yuan), None for none."""
    estimate: Estimate | None = None
    """The estimate of the whole input made when the job began (None: it began without prices)."""
    money: Mapping[str, ModelMoney] = attrs.field(factory=dict)
    """Per model: spent, committed, and the estimate's range."""
    invalid: int = 0
    """Requests answered whose reply does not fit the job's schema, or was cut at ``max_tokens`` (outcome
    ``invalid``: final, after ``max_attempts`` with ``resubmit_invalid``)."""
    resubmitted_invalid: int = 0
    """How many times a request was sent again for an invalid reply (``resubmit_invalid``)."""
    schema: str | None = None
    """The fingerprint of the schema the job's replies must fit (None: the job has none)."""

    @property
    def spent(self) -> Decimal | None:
        """What the job's finished lines cost (yuan): ``cost``."""
        return self.cost

    @property
    def done(self) -> bool:
        """True once every request has a final outcome."""
        return self.pending == 0

    @property
    def progress(self) -> int:
        """Requests done: those with a final outcome, and those done inside batches still running."""
        return min(self.succeeded + self.failed + self.budget + self.invalid + self.running_done, self.total)

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
        """The status as JSON-ready data (amounts of yuan as decimal strings).

        A job with a schema has ``requests.invalid``, ``resubmitted_invalid`` and ``schema`` too.
        """
        found: dict[str, Any] = {
            "job_id": self.job_id,
            "done": self.done,
            "cancelled": self.cancelled,
            "requests": {
                "total": self.total,
                "succeeded": self.succeeded,
                "failed": self.failed,
                "pending": self.pending,
                "budget": self.budget,
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
            "spent": None if self.cost is None else str(self.cost),
            "committed": None if self.committed is None else str(self.committed),
            "max_cost": None if self.max_cost is None else str(self.max_cost),
            "estimate": None if self.estimate is None else self.estimate.to_dict(),
            "money": {model: money.to_dict() for model, money in self.money.items()},
        }
        if self.schema is not None:
            found["requests"]["invalid"] = self.invalid
            found["resubmitted_invalid"] = self.resubmitted_invalid
            found["schema"] = self.schema
        return found

    def __str__(self) -> str:
        batches = ", ".join(f"{count} {status}" for status, count in self.batches.items()) or "none yet"
        cost = "unknown" if self.cost is None else f"{self.cost:.4f} yuan"
        held = f", {self.budget} held back by the cap" if self.budget else ""
        if self.schema is not None:
            held += f", {self.invalid} invalid (resubmitted {self.resubmitted_invalid})"
        cap = ""
        if self.max_cost is not None:
            committed = "unknown" if self.committed is None else f"{self.committed:.4f}"
            cap = f"; committed {committed} of the cap of {self.max_cost} yuan"
        return (
            f"job {self.job_id}: {self.succeeded + self.failed + self.budget + self.invalid}/{self.total} done "
            f"({self.succeeded} ok, {self.failed} failed{held}, {self.pending} pending); batches: {batches}; "
            f"resubmitted {self.resubmitted}; tokens {self.input_tokens} in / {self.output_tokens} out; cost {cost}"
            f"{cap}"
        )


@attrs.frozen
class JobBatch(JSONModel):
    """One of a job's shards (a unit sent as one batch), as its job directory has it: no request is made.

    ``state`` is where the shard is in its life: ``written``, ``uploading``, ``creating`` (not created yet, or
    not known to be), ``created`` (its batch exists and had not ended at the last poll), ``ended`` (ended, its
    result files not read yet), ``ingested`` (read); or ``dropped`` (cancelled before it was sent),
    ``refused`` (the server refused it) or ``held`` (held back by the job's cap).
    """

    shard: int
    """The shard's number in the job (from 1), carried in its batch's metadata."""
    attempt: int
    """Which attempt of its requests it sends (1 for the first)."""
    batch_id: str | None
    """Its batch's id, None while it has none."""
    status: str | None
    """Its batch's status at the last look (None while it has no batch)."""
    state: str
    """Where the shard is in its life, one of those the class lists (``created``: its batch runs)."""

    @property
    def running(self) -> bool:
        """Whether its batch exists and had not ended at the last look (``state == "created"``)."""
        return self.state == ShardState.CREATED

    @property
    def ended(self) -> bool:
        """Whether its batch has ended: ``ended`` (its results not read yet) or ``ingested``."""
        return self.state in (ShardState.ENDED, ShardState.INGESTED)


def job_batches(ledger: Ledger) -> list[JobBatch]:
    """The job's shards, by number, as :class:`JobBatch` records (dropped ones included)."""
    return [
        JobBatch(shard=row.id, attempt=row.attempt, batch_id=row.batch_id, status=row.status, state=str(row.state))
        for row in ledger.shards()
    ]


def job_status(
    ledger: Ledger, job_id: str, prices: PriceTable | None, seen: Mapping[int, Batch] | None = None
) -> JobStatus:
    """Read the job's status from its ledger; ``seen`` holds the server's view of running shards' batches."""
    counts, attempts = ledger.counts_and_attempts()
    batches = ledger.batches_by_status()
    running_done = ledger.running_done()
    if seen:
        batches, running_done = Counter(), 0
        for shard in ledger.shards():
            if shard.state is ShardState.DROPPED:
                continue
            batch = seen.get(shard.id)
            unsent = "held" if shard.state is ShardState.HELD else "unsent"
            batches[str(batch.status) if batch is not None else shard.status or unsent] += 1
            if batch is not None and not batch.is_terminal:
                running_done += batch.counts.completed + batch.counts.failed
            elif shard.state is ShardState.CREATED:
                running_done += shard.done
        batches = dict(sorted(batches.items()))
    usage = TokenUsage()
    for model, requests, input_tokens, output_tokens in ledger.usage():
        usage.by_model[model] = ModelUsage(requests, input_tokens, output_tokens)
    settings = ledger.meta("settings") or {}
    cap = settings.get("max_cost")
    made = ledger.meta("estimate")
    start = estimate_from_data(made) if made is not None else None
    money = committed(ledger, prices)
    per_model: dict[str, ModelMoney] = {}
    for model in sorted({*money.by_model, *(start.by_model if start is not None else ())}):
        spent, bound = money.by_model.get(model, (Decimal(0), Decimal(0)))
        part = start.by_model.get(model) if start is not None else None
        per_model[model] = ModelMoney(
            spent, bound, part.cost_low if part is not None else None, part.cost_high if part is not None else None
        )
    return JobStatus(
        job_id=job_id,
        total=sum(counts.values()),
        succeeded=counts.get("ok", 0),
        failed=counts.get("failed", 0),
        pending=counts.get("pending", 0),
        batches=batches,
        attempts=attempts,
        usage=dict(usage.by_model),
        cost=usage.cost(prices) if prices is not None else None,
        cancelled=ledger.cancelled(),
        running_done=running_done,
        budget=counts.get("budget", 0),
        committed=money.committed if prices is not None else None,
        max_cost=None if cap is None else Decimal(cap),
        estimate=start,
        money=per_model,
        invalid=counts.get("invalid", 0),
        resubmitted_invalid=int(ledger.meta("invalid_resubmitted") or 0),
        schema=Schema(settings["schema"]["json_schema"]).fingerprint if settings.get("schema") else None,
    )
