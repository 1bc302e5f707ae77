"""What every public model of the package has: ``to_dict()`` (JSON-ready data) and ``to_json()`` (text).

Every model is an attrs class with slots (``attrs.evolve``, ``asdict`` and ``fields`` work on each). The generated
ones get both methods from our model template (theirs give back the JSON the server sent); the hand-written ones
get them from here: ``to_dict`` walks the fields, ``to_json`` dumps whatever ``to_dict`` gives.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from enum import Enum
from typing import Any

__all__ = ["JSONModel", "json_text", "json_value"]


def json_value(value: Any) -> Any:
    """A value as JSON data: models by their ``to_dict``, enums by value, Decimals and paths as text, deeply."""
    # Imported here, not with the package (which imports this module): decimal alone is 2 ms of import.
    from decimal import Decimal
    from pathlib import PurePath

    if isinstance(value, Enum):
        return value.value
    if isinstance(value, Decimal | PurePath):
        return str(value)
    if isinstance(value, Mapping):
        return {str(key): json_value(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(item) for item in value]
    to_dict = getattr(value, "to_dict", None)
    return to_dict() if callable(to_dict) else value


def json_text(data: Any, indent: int | None) -> str:
    """``to_json``'s text for JSON-ready ``data``: non-ASCII kept as it is."""
    return json.dumps(data, indent=indent, ensure_ascii=False)


class JSONModel:
    """Mixin for the package's attrs classes: ``to_dict`` over the fields, ``to_json`` from ``to_dict``."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON-ready data (nested models as dicts, Decimals as strings)."""
        import attrs  # loaded with the models already; not with this module, which every client imports

        return {f.name: json_value(getattr(self, f.name)) for f in attrs.fields(type(self))}  # type: ignore[arg-type]

    def to_json(self, *, indent: int | None = 2) -> str:
        """The object as JSON text (``to_dict()``, dumped)."""
        return json_text(self.to_dict(), indent)
