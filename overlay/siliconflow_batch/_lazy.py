"""PEP 562 lazy names: a module's attribute is imported from its source module on first use, then cached."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping
from importlib import import_module
from typing import Any

__all__ = ["declared_names", "lazy_names", "public_order"]

# One public name per line of a package's ``if TYPE_CHECKING:`` block, in the explicit re-export form type
# checkers read (``from .module import Name as Name``): that block is the package's one list of its names.
_DECLARED = re.compile(r"^    from ([.\w]+) import (\w+) as \2$", re.MULTILINE)


def declared_names(source_file: str) -> dict[str, str]:
    """The names a package declares in its ``if TYPE_CHECKING:`` block, each with the module it comes from.

    ``from . import sub as sub`` declares the subpackage ``sub`` (its module is ``.sub``).
    """
    with open(source_file, encoding="utf-8") as handle:
        text = handle.read()
    return {name: f".{name}" if module == "." else module for module, name in _DECLARED.findall(text)}


def public_order(names: Iterable[str]) -> list[str]:
    """``names`` in the order of a sorted ``__all__`` (ruff's): constants, then classes, then the rest."""
    return sorted(names, key=lambda name: (0 if name.isupper() else 1 if name[0].isupper() else 2, name))


def lazy_names(namespace: dict[str, Any], sources: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` that imports each name in ``sources`` (name -> module) when first used.

    A module that is the name itself (``.requests`` for ``requests``) is a submodule, imported whole. The value is
    then stored in ``namespace`` (the module's globals), so later lookups are plain attributes.
    """
    package, module_name = namespace["__package__"], namespace["__name__"]

    def __getattr__(name: str) -> Any:
        source = sources.get(name)
        if source is None:
            raise AttributeError(f"module {module_name!r} has no attribute {name!r}")
        module = import_module(source, package)
        value = module if source == f".{name}" else getattr(module, name)
        namespace[name] = value
        return value

    return __getattr__
