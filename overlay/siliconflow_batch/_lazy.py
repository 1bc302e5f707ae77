"""PEP 562 lazy names: a module's attribute is imported from its source module on first use, then cached."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["lazy_names"]


def lazy_names(namespace: dict[str, Any], sources: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports each name in ``sources`` (name -> relative module) when first used.

    The value is then stored in ``namespace`` (the module's globals), so later lookups are plain attributes.
    """
    package, module_name = namespace["__package__"], namespace["__name__"]

    def __getattr__(name: str) -> Any:
        source = sources.get(name)
        if source is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        value = getattr(import_module(source, package), name)
        namespace[name] = value
        return value

    return __getattr__
