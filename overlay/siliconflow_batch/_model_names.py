"""How a table keyed by model (prices, output limits) finds a model: by its full name or its short name.

The short name is the part after the organisation (``DeepSeek-R1`` for ``deepseek-ai/DeepSeek-R1``); it finds an
entry only when one entry alone has it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

T = TypeVar("T")


def short_name(model: str) -> str:
    """The model's name without its organisation: ``DeepSeek-R1`` of ``deepseek-ai/DeepSeek-R1``."""
    return model.rsplit("/", 1)[-1]


def entry_for(table: Mapping[str, T], model: str) -> T | None:
    """``table``'s entry for ``model`` (its full name, else its short name if only one entry has it), or None."""
    if model in table:
        return table[model]
    short = short_name(model)
    matches = [value for name, value in table.items() if short_name(name) == short]
    return matches[0] if len(matches) == 1 else None
