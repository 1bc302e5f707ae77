"""Turning 2xx responses into typed objects, or one APIResponseValidationError that names the field.

The parsers of the public records (a batch, a page of them, files, the account) and what every parser uses
(:func:`parse_json`, :func:`enveloped`, :func:`model`, :func:`invalid`); an operation whose answer is no public record
reads it beside its declaration, in ``_operations/``.

The checks are in the generated models' ``from_dict`` (our model template): each field is checked as it is
built, a field that is not essential keeps its raw value with one warning, and a missing required field or an
essential one that does not fit raises ``FieldMismatch`` with its path. Here that becomes the client's error,
with the request it answered.
"""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from siliconflow_batch_generated.checks import FieldMismatch

from ._exceptions import APIResponseValidationError, make_status_error, where

if TYPE_CHECKING:
    from .types import AccountInfo, Batch, BatchPage, FileObject

__all__ = [
    "enveloped",
    "invalid",
    "model",
    "parse_account",
    "parse_batch",
    "parse_batch_page",
    "parse_file_list",
    "parse_json",
    "parse_uploaded_file",
]

T = TypeVar("T")


def parse_json(response: httpx.Response) -> Any:
    """The response body as JSON, or an APIResponseValidationError saying why it is not."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        preview = response.content[:80].decode("utf-8", "replace")
        raise APIResponseValidationError(
            f"{where(response.request)}: the body is not JSON ({exc.__class__.__name__}): {preview!r}",
            response=response,
        ) from exc


# The generated models and our types load with the first parse, not with the client (import cost).


def parse_batch(response: httpx.Response) -> Batch:
    """A Batch from a get, create or cancel answer."""
    from .types import Batch

    return model(Batch, parse_json(response), response, "")


def parse_batch_page(response: httpx.Response) -> BatchPage:
    """A page of batches; each item is parsed into our :class:`Batch`, so helpers like ``is_terminal`` work."""
    from siliconflow_batch_generated.models.batch_list import BatchList

    from .types import Batch, BatchPage

    body = parse_json(response)
    if not isinstance(body, dict):
        raise invalid(response, "", f"expected an object, got {type(body).__name__}")
    if body.get("status") is False or ("data" not in body and "message" in body):
        raise make_status_error(response, envelope=True)  # an error envelope under a 200 is not an empty page
    items = body.get("data", [])
    if not isinstance(items, list):
        raise invalid(response, "data", f"expected a list, got {type(items).__name__}")
    meta = model(BatchList, {k: v for k, v in body.items() if k != "data"}, response, "")
    from_dict = Batch.from_dict
    try:  # the hot path of a listing: no per-item wrapper or path; an error is found again below, with its path
        data = [from_dict(item) for item in items if type(item) is dict]
    except FieldMismatch:
        data = []
    if len(data) != len(items):  # an item that is no object, or one that does not fit
        data = [model(Batch, item, response, f"data[{i}]") for i, item in enumerate(items)]
    return BatchPage(
        data=data,
        has_more=meta.has_more if isinstance(meta.has_more, bool) else False,
        first_id=meta.first_id if isinstance(meta.first_id, str) else None,
        last_id=meta.last_id if isinstance(meta.last_id, str) else None,
    )


def parse_uploaded_file(response: httpx.Response) -> FileObject:
    """The file from an upload answer, out of its envelope."""
    from siliconflow_batch_generated.models.uploaded_file_envelope import UploadedFileEnvelope

    from .types import FileObject

    envelope = enveloped(UploadedFileEnvelope, response)
    if envelope.data is None:
        raise invalid(response, "data", "missing from a successful envelope")
    return FileObject.from_uploaded(envelope.data)


def parse_file_list(response: httpx.Response) -> list[FileObject]:
    """The files from a list answer, out of its envelope."""
    from siliconflow_batch_generated.models.file_list_envelope import FileListEnvelope

    from .types import FileObject

    envelope = enveloped(FileListEnvelope, response)
    if envelope.data is None or envelope.data.data is None:
        return []
    return [FileObject.from_listed(item) for item in envelope.data.data]


def parse_account(response: httpx.Response) -> AccountInfo:
    """The account from a ``GET /user/info`` answer, out of its envelope; balances as Decimals."""
    from siliconflow_batch_generated.models.user_info_response_200 import UserInfoResponse200

    from .types import AccountInfo, decimal_or_none

    envelope = enveloped(UserInfoResponse200, response)
    if envelope.data is None:
        raise invalid(response, "data", "missing from a successful envelope")
    data = envelope.data

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) else None

    return AccountInfo(
        id=text(data.id),
        name=text(data.name),
        email=text(data.email),
        is_admin=data.is_admin if isinstance(data.is_admin, bool) else None,
        status=text(data.status),
        balance=decimal_or_none(data.balance),
        charge_balance=decimal_or_none(data.charge_balance),
        total_balance=decimal_or_none(data.total_balance),
        extra=dict(data.additional_properties),
    )


def enveloped(cls: type[T], response: httpx.Response) -> T:
    """The generated envelope model ``cls`` of ``response``; an envelope that says status false is an error."""
    body = parse_json(response)
    # An envelope that says status false is an error even under a 200.
    if isinstance(body, dict) and body.get("status") is False:
        raise make_status_error(response, envelope=True)
    return model(cls, body, response, "")


def model(cls: type[T], data: Any, response: httpx.Response, path: str) -> T:
    """The generated model ``cls`` from ``data`` (found at ``path`` in ``response``), or the error naming its field."""
    if not isinstance(data, dict):
        raise invalid(response, path, f"expected an object, got {type(data).__name__}")
    try:
        return cls.from_dict(data)  # type: ignore[attr-defined, no-any-return]
    except FieldMismatch as exc:
        raise invalid(response, _join(path, exc.path), exc.message) from exc


def _join(path: str, name: str) -> str:
    if not path or not name:
        return path or name
    return f"{path}{name}" if name.startswith("[") else f"{path}.{name}"


def invalid(response: httpx.Response, field: str, message: str) -> APIResponseValidationError:
    """The error for a body whose ``field`` (the body itself when empty) does not fit: ``message`` says how."""
    subject = f"field {field!r}" if field else "the body"
    return APIResponseValidationError(
        f"{where(response.request)}: {subject} {message}", response=response, field=field or None
    )
