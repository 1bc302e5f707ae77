"""The objects the client returns: the generated models, with what a caller needs added."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from attrs import field, frozen

from siliconflow_batch_generated.models.batch import Batch as _GeneratedBatch
from siliconflow_batch_generated.models.batch_error import BatchError
from siliconflow_batch_generated.models.batch_errors import BatchErrors
from siliconflow_batch_generated.models.batch_metadata import BatchMetadata
from siliconflow_batch_generated.models.batch_request_counts import BatchRequestCounts
from siliconflow_batch_generated.models.batch_status import BatchStatus
from siliconflow_batch_generated.models.file_object import FileObject as _ListedFile
from siliconflow_batch_generated.models.uploaded_file import UploadedFile as _UploadedFile

from ._model import JSONModel
from ._records import BatchResult, RequestCounts, Usage
from ._records import decimal_or_none as decimal_or_none  # read by the account's parser

__all__ = [
    "TERMINAL_STATUSES",
    "AccountInfo",
    "Batch",
    "BatchError",
    "BatchErrors",
    "BatchMetadata",
    "BatchPage",
    "BatchRequestCounts",
    "BatchResult",
    "BatchStatus",
    "FileObject",
    "RequestCounts",
    "Usage",
    "timestamp_datetime",
]

TERMINAL_STATUSES: frozenset[BatchStatus] = frozenset(
    {BatchStatus.COMPLETED, BatchStatus.FAILED, BatchStatus.EXPIRED, BatchStatus.CANCELLED}
)


def _int(value: object) -> int:
    return value if isinstance(value, int) else 0


# A Unix time in seconds passes this only after the year 5000; in milliseconds, it passed it in 1973.
_MILLISECONDS = 10**11


def timestamp_datetime(value: object) -> datetime | None:
    """A Unix timestamp in seconds, or in milliseconds as some servers send, as an aware UTC datetime.

    None for anything that is not a usable number.
    """
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    seconds = value / 1000 if abs(value) >= _MILLISECONDS else value
    try:
        return datetime.fromtimestamp(seconds, UTC)
    except (OverflowError, OSError, ValueError):
        return None


def _error_line(error: object) -> str:
    """One readable line for an error item of any shape (a string, or an object like ``{code, message, line}``)."""
    if not isinstance(error, dict):
        return str(error)
    line, code, message = error.get("line"), error.get("code"), error.get("message")
    where = f"line {line}: " if isinstance(line, int) and not isinstance(line, bool) else ""
    tag = f"[{code}] " if isinstance(code, str | int) and not isinstance(code, bool) and code != "" else ""
    text = message if isinstance(message, str) else ""
    return f"{where}{tag}{text}".strip() or json.dumps(error, default=str)


class Batch(_GeneratedBatch):
    """A batch (the generated model) with helpers.

    ``status`` is a :class:`BatchStatus` and compares equal to its string; a status this client does not know
    yet keeps its raw value. Timestamps are Unix seconds; :meth:`datetime_of` converts them (milliseconds too).
    A field the server did not send is None. A field other than ``id`` and ``status`` that arrives in an
    unexpected shape keeps its raw JSON value (warned once). ``to_dict()`` gives back the JSON the server sent.
    """

    __slots__ = ()

    def __repr__(self) -> str:
        counts = self.counts
        return (
            f"Batch(id={self.id!r}, status={str(self.status)!r}, "
            f"requests={counts.completed + counts.failed}/{counts.total}, failed={counts.failed}, "
            f"output_file_id={self.output_file_id!r}, error_file_id={self.error_file_id!r})"
        )

    @property
    def is_terminal(self) -> bool:
        """True once the batch is completed, failed, expired or cancelled (unknown statuses are not terminal)."""
        return self.status in TERMINAL_STATUSES

    @property
    def counts(self) -> RequestCounts:
        """``request_counts`` as three ints, whether the server sent them, ``{}`` or ``null``."""
        counts = self.request_counts
        if not isinstance(counts, BatchRequestCounts):
            return RequestCounts(0, 0, 0)
        return RequestCounts(_int(counts.total), _int(counts.completed), _int(counts.failed))

    @property
    def created_at_datetime(self) -> datetime | None:
        """``created_at`` as an aware UTC datetime (None if the server sent something that is not a time)."""
        return timestamp_datetime(self.created_at)

    def datetime_of(self, name: str) -> datetime | None:
        """The timestamp field ``name`` (say ``"completed_at"``) as a UTC datetime, or None while unset."""
        if not name.endswith("_at") or not hasattr(self, name):
            raise AttributeError(f"Batch has no timestamp field {name!r}")
        return timestamp_datetime(getattr(self, name))

    def error_messages(self) -> list[str]:
        """The batch's errors as readable lines.

        Whichever shape the server used: strings, objects, or OpenAI's ``{"data": [...]}``.
        """
        errors: Any = self.errors
        if isinstance(errors, BatchErrors):
            errors = errors.data
        elif isinstance(errors, dict):  # an object the generated model could not take, kept raw
            errors = errors.get("data")
        if not isinstance(errors, list):
            return []
        return [_error_line(e.to_dict() if isinstance(e, BatchError) else e) for e in errors]


@frozen
class FileObject(JSONModel):
    """An uploaded file. Upload answers ``createdAt`` and listing ``created_at``: both land in ``created_at``."""

    id: str
    bytes: int | None = None
    created_at: int | None = None
    filename: str | None = None
    purpose: str | None = None
    line_count: int | None = None
    object: str = "file"
    extra: dict[str, Any] = field(factory=dict, repr=False)

    @classmethod
    def from_uploaded(cls, data: _UploadedFile) -> FileObject:
        """Build from the upload answer's ``data`` (camelCase ``createdAt``)."""
        return cls._from(data, None)

    @classmethod
    def from_listed(cls, data: _ListedFile) -> FileObject:
        """Build from one item of the file list (snake_case ``created_at``, with ``line_count``)."""
        return cls._from(data, data.line_count)

    @classmethod
    def _from(cls, data: _UploadedFile | _ListedFile, line_count: int | None) -> FileObject:
        return cls(
            id=data.id,
            bytes=data.bytes_,
            created_at=data.created_at,
            filename=data.filename,
            purpose=data.purpose,
            line_count=line_count,
            object=data.object_ if isinstance(data.object_, str) else "file",
            extra=dict(data.additional_properties),
        )


@frozen
class BatchPage(JSONModel):
    """One page of ``GET /batches``."""

    data: list[Batch]
    has_more: bool
    first_id: str | None = None
    last_id: str | None = None


@frozen
class AccountInfo(JSONModel):
    """The account behind the API key (``GET /user/info``): who it is and its balances, in yuan, as Decimals.

    Batch jobs are paid only from the recharged balance, ``charge_balance``; ``balance`` is the gifted credit,
    and ``total_balance`` the two together. A balance the server did not send, or sent in another shape, is None.
    """

    id: str | None = None
    name: str | None = None
    email: str | None = None
    is_admin: bool | None = None
    status: str | None = None
    balance: Decimal | None = None
    charge_balance: Decimal | None = None
    total_balance: Decimal | None = None
    extra: dict[str, Any] = field(factory=dict, repr=False)

    @property
    def can_pay_for_batches(self) -> bool:
        """True when the recharged balance, the one batch jobs are paid from, is above zero."""
        return self.charge_balance is not None and self.charge_balance > 0
