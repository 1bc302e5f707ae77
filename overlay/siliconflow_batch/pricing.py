"""What a batch costs: the vendor's batch prices (a data file you can replace) and token usage summed per model.

>>> from siliconflow_batch.pricing import PriceTable, TokenUsage
>>> usage = TokenUsage()
>>> for result in client.batches.results(batch): usage.add(result)
>>> usage.cost(PriceTable.load())        # Decimal yuan, at batch prices; None for a model with no price
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from decimal import Decimal
from importlib import resources
from pathlib import Path
from typing import Any

from attrs import define, field, frozen

from ._exceptions import SiliconFlowError
from ._model import JSONModel
from ._model_names import entry_for
from ._records import BatchResult, decimal_or_none, token_count

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
        """The prices from ``path``, else ``$SILICONFLOW_BATCH_PRICES``, else the packaged file.

        The file is checked whole: a JSON object with ``prices`` mapping each model to ``{"input": ..., "output":
        ...}``, yuan per million tokens, numbers or decimal strings, none negative; ``currency``, when given, is
        ``"CNY"``. Anything else raises :class:`SiliconFlowError` with one line naming the file and the bad entry.
        """
        chosen = path if path is not None else os.environ.get("SILICONFLOW_BATCH_PRICES") or None
        where = "the packaged batch_prices.json" if chosen is None else str(chosen)
        try:
            if chosen is None:
                text = resources.files("siliconflow_batch").joinpath("data/batch_prices.json").read_text("utf-8")
            else:
                text = Path(chosen).read_text(encoding="utf-8")
        except (OSError, ValueError) as exc:  # ValueError: not UTF-8
            raise SiliconFlowError(f"cannot read batch prices from {where}: {exc}") from exc
        try:
            data: Any = json.loads(text)
        except ValueError as exc:
            raise SiliconFlowError(f"cannot read batch prices from {where}: not valid JSON ({exc})") from exc
        return cls._checked(data, where)

    def to_data(self) -> dict[str, Any]:
        """The table in the price file's own shape (decimal strings): :meth:`from_data` reads it back."""
        prices = {
            model: {"input": str(price.input_per_million), "output": str(price.output_per_million)}
            for model, price in self.prices.items()
        }
        return {"source": self.source, "as_of": self.as_of, "currency": "CNY", "prices": prices}

    @classmethod
    def from_data(cls, data: Any, where: str = "the data given") -> PriceTable:
        """The table in ``data``, a price file's JSON (checked as :meth:`load` checks a file; ``where`` names it)."""
        return cls._checked(data, where)

    @classmethod
    def _checked(cls, data: Any, where: str) -> PriceTable:
        def bad(what: str) -> SiliconFlowError:
            return SiliconFlowError(f"cannot read batch prices from {where}: {what}")

        if not isinstance(data, dict):
            raise bad(f"the file must hold a JSON object, not {_kind(data)}")
        for key in ("source", "as_of"):
            if not isinstance(data.get(key, ""), str):
                raise bad(f'"{key}" must be a string, not {_kind(data[key])}')
        if data.get("currency", "CNY") != "CNY":
            raise bad(f'"currency" must be "CNY" (prices are in yuan), got {data["currency"]!r}')
        table = data.get("prices")
        if not isinstance(table, dict):
            raise bad('"prices" must be an object of model: {"input": ..., "output": ...}')
        prices = {}
        for model, price in table.items():
            if not isinstance(price, dict):
                raise bad(f'model "{model}": must be an object with "input" and "output", not {_kind(price)}')
            amounts = []
            for side in ("input", "output"):
                if side not in price:
                    raise bad(f'model "{model}": "{side}" is missing')
                amount = decimal_or_none(price[side])
                if amount is None:
                    raise bad(f'model "{model}": "{side}" is not a number (got {price[side]!r})')
                if amount < 0:
                    raise bad(f'model "{model}": "{side}" is negative ({price[side]!r})')
                amounts.append(amount)
            prices[model] = ModelPrice(amounts[0], amounts[1])
        return cls(prices=prices, source=data.get("source", ""), as_of=data.get("as_of", ""))

    def price_of(self, model: str) -> ModelPrice | None:
        """The price of ``model`` (its full name, or the part after the organisation), or None if unknown."""
        return entry_for(self.prices, model)

    def total_cost(self, counts: Iterable[tuple[str, int, int]]) -> Decimal | None:
        """The cost in yuan of (model, input tokens, output tokens) counts, summed; None when a model has no price."""
        total = Decimal(0)
        for model, input_tokens, output_tokens in counts:
            price = self.price_of(model)
            if price is None:
                return None
            total += price.cost(input_tokens, output_tokens)
        return total


@define
class ModelUsage(JSONModel):
    """Tokens one model used across results, as the vendor counted and bills them.

    ``requests`` is how many of the results added gave a usage; ``input_tokens`` their prompt tokens,
    ``output_tokens`` their completion tokens.
    """

    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0


@define
class TokenUsage(JSONModel):
    """Token usage summed per model from result lines (``add`` each :class:`BatchResult`; constant memory)."""

    by_model: dict[str, ModelUsage] = field(factory=dict)

    def add(self, result: BatchResult, *, model: str | None = None) -> None:
        """Count the usage of one result; a result without usage (a failure, an expiry) adds nothing.

        It counts under ``model`` when given (a job gives the model it asked for, the one it priced), else
        under the model the reply names.
        """
        body = result.body
        if body is None:
            return
        usage = body.get("usage")
        if not isinstance(usage, dict):
            return
        if model is None:
            model = body.get("model")
        name = model if isinstance(model, str) else ""
        entry = self.by_model.get(name)
        if entry is None:  # made once a model, not once a result
            entry = self.by_model[name] = ModelUsage()
        entry.requests += 1
        entry.input_tokens += token_count(usage.get("prompt_tokens"))
        entry.output_tokens += token_count(usage.get("completion_tokens"))

    def cost(self, prices: PriceTable) -> Decimal | None:
        """The total cost in yuan at ``prices``; None when a model that was used has no price."""
        return prices.total_cost(
            (model, usage.input_tokens, usage.output_tokens) for model, usage in self.by_model.items()
        )


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, dict | list | str):
        return {dict: "an object", list: "a list"}.get(type(value), "a string")
    return type(value).__name__
