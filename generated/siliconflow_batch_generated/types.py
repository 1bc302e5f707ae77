"""Shared types for properties, and the checks the generated models' ``from_dict`` makes as it builds."""

import logging
from collections.abc import Mapping, MutableMapping
from dataclasses import dataclass
from enum import Enum
from http import HTTPStatus
from typing import IO, Any, BinaryIO, Generic, Literal, NoReturn, TypeVar


class Unset:
    def __bool__(self) -> Literal[False]:
        return False


UNSET: Unset = Unset()

# The types that `httpx.Client(files=)` can accept, copied from that library.
FileContent = IO[bytes] | bytes | str
FileTypes = (
    # (filename, file (or bytes), content_type)
    tuple[str | None, FileContent, str | None]
    # (filename, file (or bytes), content_type, headers)
    | tuple[str | None, FileContent, str | None, Mapping[str, str]]
)
RequestFiles = list[tuple[str, FileTypes]]


@dataclass
class File:
    """Contains information for file uploads"""

    payload: BinaryIO
    file_name: str | None = None
    mime_type: str | None = None

    def to_tuple(self) -> FileTypes:
        """Return a tuple representation that httpx will accept for multipart/form-data"""
        return self.file_name, self.payload, self.mime_type


T = TypeVar("T")


@dataclass
class Response(Generic[T]):
    """A response from an endpoint"""

    status_code: HTTPStatus
    content: bytes
    headers: MutableMapping[str, str]
    parsed: T | None


class FieldMismatch(ValueError):
    """A field of a server's object that does not fit its schema: ``path`` says where (``data[3].status``)."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}" if path else message)
        self.path = path
        self.message = message


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


_WARNED: set[tuple[str, str]] = set()
logger = logging.getLogger("siliconflow_batch")


def keep(model: str, key: str, value: T) -> T:
    """The tolerant reader: a field that is not essential keeps its raw value, with one warning per model and field.

    Sets are thread-safe for this use: at worst two threads both warn once.
    """
    if (model, key) not in _WARNED:
        _WARNED.add((model, key))
        logger.warning(
            "%s.%s has an unexpected shape (%s %s); its raw value is kept (warned once)",
            model,
            key,
            type(value).__name__,
            preview(value),
        )
    return value


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


__all__ = [
    "UNSET",
    "FieldMismatch",
    "File",
    "FileTypes",
    "RequestFiles",
    "Response",
    "Unset",
    "at",
    "json_data",
    "keep",
    "mismatch",
    "missing",
    "preview",
]
