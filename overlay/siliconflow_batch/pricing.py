"""What a batch costs: the vendor's batch prices (a data file you can replace) and token usage summed per model.

>>> from siliconflow_batch.pricing import PriceTable, TokenUsage
>>> usage = TokenUsage()
>>> for result in client.batches.results(batch): usage.add(result)
>>> usage.cost(PriceTable.load())        # Decimal yuan, at batch prices; None for a model with no price
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from attrs import define, field, frozen

from ._exceptions import SiliconFlowError
from ._model import JSONModel
from ._records import BatchResult

__all__ = ["ModelPrice", "ModelUsage", "PriceTable", "TokenUsage"]

_MILLION = Decimal(1_000_000)


@frozen
class ModelPrice(JSONModel):
    """One model's batch price, yuan per million tokens, for input (prompt) and output (completion)."""

    input_per_million: Decimal
    output_per_million: Decimal

    def cost(self, input_tokens: int, output_tokens: int) -> Decimal:
        """The cost of that many tokens, in yuan."""
        return (input_tokens * self.input_per_million + output_tokens * self.output_per_million) / _MILLION


@frozen
class PriceTable(JSONModel):
    """The vendor's batch prices by model, with where and when they were read (``source``, ``as_of``).

    :meth:`load` reads the file shipped with the package, or yours (``SILICONFLOW_BATCH_PRICES`` or ``path``)
    when the vendor's prices changed before this package did.
    """

    prices: Mapping[str, ModelPrice]
    source: str = ""
    as_of: str = ""

    @classmethod
    def load(cls, path: str | os.PathLike[str] | None = None) -> PriceTable:
        """The prices from ``path``, else ``$SILICONFLOW_BATCH_PRICES``, else the packaged file."""
        chosen = path if path is not None else os.environ.get("SILICONFLOW_BATCH_PRICES") or None
        where = "the packaged batch_prices.json" if chosen is None else str(chosen)
        try:
            if chosen is None:
                text = resources.files("siliconflow_batch").joinpath("data/batch_prices.json").read_text("utf-8")
            else:
                text = Path(chosen).read_text(encoding="utf-8")
            data: Any = json.loads(text)
            prices = {
                model: ModelPrice(Decimal(str(price["input"])), Decimal(str(price["output"])))
                for model, price in data["prices"].items()
            }
        except (OSError, ValueError, KeyError, TypeError, ArithmeticError) as exc:
            raise SiliconFlowError(
                f"cannot read batch prices from {where if chosen is None else chosen}: {exc}"
            ) from exc
        return cls(prices=prices, source=str(data.get("source", "")), as_of=str(data.get("as_of", "")))

    def price_of(self, model: str) -> ModelPrice | None:
        """The price of ``model`` (its full name, or the part after the organisation), or None if unknown."""
        if model in self.prices:
            return self.prices[model]
        short = model.rsplit("/", 1)[-1]
        matches = [price for name, price in self.prices.items() if name.rsplit("/", 1)[-1] == short]
        return matches[0] if len(matches) == 1 else None


@define
class ModelUsage(JSONModel):
    """Tokens one model used across results: input (prompt) and output (completion), and how many results."""

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


@define
class TokenUsage(JSONModel):
    """Token usage summed per model from result lines (``add`` each :class:`BatchResult`; constant memory)."""

    by_model: dict[str, ModelUsage] = field(factory=dict)

    def add(self, result: BatchResult) -> None:
        """Count the usage of one result; a result without usage (a failure, an expiry) adds nothing."""
        body = result.body
        usage = body.get("usage") if body is not None else None
        if not isinstance(usage, dict):
            return
        model = body.get("model") if body is not None else None
        entry = self.by_model.setdefault(model if isinstance(model, str) else "", ModelUsage())
        entry.requests += 1
        entry.input_tokens += _count(usage.get("prompt_tokens"))
        entry.output_tokens += _count(usage.get("completion_tokens"))

    def cost(self, prices: PriceTable) -> Decimal | None:
        """The total cost in yuan at ``prices``; None when a model that was used has no price."""
        total = Decimal(0)
        for model, usage in self.by_model.items():
            price = prices.price_of(model)
            if price is None:
                return None
            total += price.cost(usage.input_tokens, usage.output_tokens)
        return total


def _count(value: object) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) and value > 0 else 0
