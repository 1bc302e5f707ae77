"""A job's money, free of network I/O: its prices, the estimate made at its start, what it spent and committed.

``spent`` is the cost of the usage read from result lines (every line that has usage, the finished part of an
expired batch included: the vendor bills it); ``committed`` is spent plus the upper bound (``ShardRow.bound``,
recorded when a shard is cut) of every shard whose batch may exist and whose results are not read yet. The cap
(``max_cost``) is checked against committed before every create, in the transaction that records it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from .._model import JSONModel
from ..estimate import Calibration, Estimate, ModelEstimate
from ..pricing import ModelPrice, PriceTable
from ..validation import MAX_LINE_BYTES
from .input import SPOOL_NAME
from .ledger import LEDGER_NAME, Ledger

__all__ = [
    "BUDGET",
    "Committed",
    "JobEstimate",
    "ModelMoney",
    "calibrated",
    "calibration_of",
    "committed",
    "estimate_from_data",
    "job_prices",
]

BUDGET = {"code": "budget", "message": "held back: its batch's upper bound would take the job past its max_cost"}


@attrs.frozen
class ModelMoney(JSONModel):
    """One model's money in a job, in yuan; None: unknown (the model has no price).

    ``spent``, ``committed`` (spent plus the bound of what is in flight), and the range of the estimate made at
    the start (``estimated_low``, ``estimated_high``).
    """

    spent: Decimal | None
    committed: Decimal | None
    estimated_low: Decimal | None = None
    estimated_high: Decimal | None = None


@attrs.frozen
class JobEstimate(JSONModel):
    """What a job would cost, before anything is sent (``jobs.estimate``, ``run --dry-run``).

    ``estimate`` has the requests, the input tokens (estimated: each model's rate is stated in its ``ratio``),
    the output tokens (an upper bound: each model's ``output`` says how it was made) and the cost range at the
    batch prices, with the recharged ``balance`` and whether it ``covered`` the upper bound when it was looked
    up. ``shards`` is how many batches the first cut makes; ``calibrated_from`` names the job directories whose
    finished lines calibrated the input rates; ``max_cost`` is the cap, when one was given.
    """

    shards: int
    estimate: Estimate
    calibrated_from: tuple[str, ...] = ()
    max_cost: Decimal | None = None

    @property
    def within_cap(self) -> bool | None:
        """Whether the upper bound is within ``max_cost`` (None: no cap, or the bound is unknown)."""
        if self.max_cost is None or self.estimate.cost_high is None:
            return None
        return self.estimate.cost_high <= self.max_cost

    def __str__(self) -> str:
        """The report a person reads: each number, and how it was made."""
        made = self.estimate
        prices = (made.prices_source or "the price file") + (
            f"; as of {made.prices_as_of}" if made.prices_as_of else ""
        )
        rows = [
            ("requests", f"{made.requests} in {self.shards} batch{'es' if self.shards != 1 else ''}"),
            ("input", f"{made.input_tokens} tokens (estimated)"),
            ("output", f"at most {made.output_tokens_max} tokens (upper bound)"),
            ("cost", f"{_yuan(made.cost_low)} to {_yuan(made.cost_high)} yuan at the batch prices ({prices})"),
        ]  # fmt: skip
        if made.balance is not None:
            covered = {True: "covers", False: "does NOT cover", None: "may or may not cover"}[made.covered]
            rows.append(("balance", f"{made.balance} yuan recharged: {covered} the upper bound"))
        else:
            rows.append(("balance", "not looked up"))
        if self.max_cost is not None:
            within = {
                True: "the upper bound is within it",
                False: "the upper bound is above it: what does not fit is held back",
                None: "the upper bound is unknown",
            }
            rows.append(("cap", f"{self.max_cost} yuan: {within[self.within_cap]}"))
        for model, part in made.by_model.items():
            rows.append((
                "model", f"{model or '(no model)'}: {part.requests} requests, {part.input_tokens} tokens in, at most "
                f"{part.output_tokens_max} out, {_yuan(part.cost_low)} to {_yuan(part.cost_high)} yuan",
            ))  # fmt: skip
            rows.append(("  input", f"{part.chars_per_token} characters a token: {part.ratio}"))
            rows.append(("  output", part.output))
        if made.unpriced:
            rows.append(("unknown", f"no price for {', '.join(made.unpriced)}: the cost is unknown, not zero"))
        if self.calibrated_from:
            rows.append(("calibrated", "from the lines run in " + ", ".join(self.calibrated_from)))
        return "\n".join(f"{name:<12} {value}" for name, value in rows)


def _yuan(amount: Decimal | None) -> str:
    return "unknown" if amount is None else f"{amount:.4f}"


def calibrated(job_dirs: Sequence[Path]) -> tuple[Calibration | None, tuple[str, ...]]:
    """One calibration from the lines the jobs in ``job_dirs`` ran, and the directories that held any."""
    found = Calibration()
    used = []
    for job_dir in job_dirs:
        before = sum(entry.lines for entry in found.by_model.values())
        calibration_of(job_dir, found)
        if sum(entry.lines for entry in found.by_model.values()) > before:
            used.append(str(job_dir))
    return (found if used else None), tuple(used)


@attrs.frozen
class Committed:
    """What a job has spent and committed, in total and per model (None: unknown, a model has no price)."""

    spent: Decimal | None
    committed: Decimal | None
    by_model: Mapping[str, tuple[Decimal | None, Decimal | None]]


def job_prices(ledger: Ledger) -> PriceTable | None:
    """The prices the job began with (kept in its ledger), or None for a job begun without any."""
    data = ledger.meta("prices")
    return None if data is None else PriceTable.from_data(data, f"the prices kept in {ledger.path}")


def committed(ledger: Ledger, prices: PriceTable | None) -> Committed:
    """The job's spent and committed cost from its ledger, at ``prices`` (the job's own)."""
    by_model: dict[str, list[Decimal | None]] = {}

    def add(model: str, slot: int, amount: Decimal | None) -> None:
        entry = by_model.setdefault(model, [Decimal(0), Decimal(0)])
        current = entry[slot]
        entry[slot] = None if current is None or amount is None else current + amount

    for model, _, input_tokens, output_tokens in ledger.usage():
        price = prices.price_of(model) if prices is not None else None
        cost = None if price is None else price.cost(input_tokens, output_tokens)
        add(model, 0, cost)
        add(model, 1, cost)
    for model, bound in ledger.in_flight():
        by_model.setdefault(model, [Decimal(0), Decimal(0)])
        add(model, 1, None if bound is None else Decimal(bound))
    spent: Decimal | None = Decimal(0)
    total: Decimal | None = Decimal(0)
    for model_spent, model_committed in by_model.values():
        spent = None if spent is None or model_spent is None else spent + model_spent
        total = None if total is None or model_committed is None else total + model_committed
    return Committed(spent, total, {model: (a, b) for model, (a, b) in sorted(by_model.items())})


def calibration_of(job_dir: Path, into: Calibration | None = None) -> Calibration:
    """A :class:`Calibration` from the lines the job in ``job_dir`` already ran (their ``usage.prompt_tokens``).

    A directory without a job gives what ``into`` holds (an empty calibration when None). A line too long to read
    whole (over ``MAX_LINE_BYTES``) is left out: its estimate is a bound from its size, not from its text, and
    would skew the rate the other lines are estimated at.
    """
    found = into if into is not None else Calibration()
    if not (job_dir / LEDGER_NAME).is_file() or not (job_dir / SPOOL_NAME).is_file():
        return found
    ledger = Ledger(job_dir / LEDGER_NAME)
    try:
        settings = ledger.meta("settings") or {}
        replace_model = settings.get("replace_model")
        with (job_dir / SPOOL_NAME).open("rb") as spooled:
            for offset, length, result in ledger.ran():
                try:
                    usage = json.loads(result)["response"]["body"]["usage"]
                    tokens = usage["prompt_tokens"]
                except (ValueError, KeyError, TypeError):
                    continue
                if length > MAX_LINE_BYTES:
                    continue
                spooled.seek(offset)
                found.add(spooled.read(length), tokens, replace_model=replace_model)
    finally:
        ledger.close()
    return found


def _decimal(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def estimate_from_data(data: Mapping[str, Any]) -> Estimate:
    """An :class:`Estimate` back from its ``to_dict()`` (as the ledger keeps the one made at a job's start)."""
    by_model = {}
    for model, item in data["by_model"].items():
        price = item.get("price")
        by_model[model] = ModelEstimate(
            model=item["model"],
            requests=item["requests"],
            characters=item["characters"],
            input_tokens=item["input_tokens"],
            output_tokens_max=item["output_tokens_max"],
            chars_per_token=Decimal(str(item["chars_per_token"])),
            ratio=item["ratio"],
            output=item["output"],
            price=None
            if price is None
            else ModelPrice(Decimal(str(price["input_per_million"])), Decimal(str(price["output_per_million"]))),
            cost_low=_decimal(item["cost_low"]),
            cost_high=_decimal(item["cost_high"]),
        )
    return Estimate(
        requests=data["requests"],
        input_tokens=data["input_tokens"],
        output_tokens_max=data["output_tokens_max"],
        cost_low=_decimal(data["cost_low"]),
        cost_high=_decimal(data["cost_high"]),
        by_model=by_model,
        unpriced=tuple(data["unpriced"]),
        prices_source=data["prices_source"],
        prices_as_of=data["prices_as_of"],
        balance=_decimal(data.get("balance")),
        covered=data.get("covered"),
    )
