"""The checks the generated models' ``from_dict`` makes as it builds (our model template calls these).

A real Python file, checked by ruff and mypy with the rest of scripts/, that ``scripts/regenerate`` copies into the
generated package as ``checks.py``: runtime code is kept out of Jinja text.
"""

from __future__ import annotations

import logging
from enum import Enum
from typing import Any, NoReturn, TypeVar

__all__ = ["FieldMismatch", "at", "json_data", "keep", "mismatch", "missing", "preview", "timestamp"]

T = TypeVar("T")
_WARNED: set[tuple[str, str]] = set()
logger = logging.getLogger("siliconflow_batch")


class FieldMismatch(ValueError):
    """A field of a server's object that does not fit its schema: ``path`` says where (``data[3].status``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message

    def __reduce__(self) -> tuple[type[FieldMismatch], tuple[str, str]]:
        return type(self), (self.path, self.message)


def at(path: str, key: str) -> str:
    """The path of field ``key`` of the object at ``path``."""
    return f"{path}.{key}" if path else key


def preview(value: object) -> str:
    """A value's repr, cut to 60 characters for messages."""
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def missing(path: str, key: str) -> NoReturn:
    """Raise for a required field the object lacks."""
    raise FieldMismatch(at(path, key), "required field is missing")


def mismatch(path: str, expected: str, value: object) -> NoReturn:
    """Raise for a value of the wrong shape."""
    raise FieldMismatch(path, f"expected {expected}, got {type(value).__name__} {preview(value)}")


def _warn_once(model: str, key: str, what: str, value: object) -> None:
    # Sets are thread-safe for this use: at worst two threads both warn once.
    if (model, key) not in _WARNED:
        _WARNED.add((model, key))
        logger.warning("%s.%s %s (%s %s) (warned once)", model, key, what, type(value).__name__, preview(value))


def keep(model: str, key: str, value: T) -> T:
    """The tolerant reader: a field that is not essential keeps its raw value, with one warning per model and field."""
    _warn_once(model, key, "has an unexpected shape; its raw value is kept", value)
    return value


def timestamp(model: str, key: str, value: object) -> object:
    """A timestamp field that arrived as text: the Unix second it names, read with python-dateutil.

    ISO 8601 (with ``Z`` or an offset), ``YYYY-MM-DD HH:MM:SS`` (read as UTC) and RFC 1123 dates are read, as
    OpenAI-compatible gateways send them; the one warning names the field. Anything else keeps its raw value.
    """
    if type(value) is str:
        from datetime import UTC

        from dateutil import parser  # loaded only when a server sends a timestamp as text

        try:
            when = parser.parse(value)
        except (ValueError, OverflowError):
            return keep(model, key, value)
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        _warn_once(model, key, "is a time as text; read as Unix seconds", value)
        return int(when.timestamp())
    return keep(model, key, value)


def json_data(value: Any) -> Any:
    """A field's value as JSON data: models by their ``to_dict``, enums by their value, lists item by item.

    A raw value the tolerant reader kept is JSON already and comes back as it is.
    """
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list):
        return [json_data(item) for item in value]
    to_dict = getattr(value, "to_dict", None)
    return to_dict() if to_dict is not None else value
