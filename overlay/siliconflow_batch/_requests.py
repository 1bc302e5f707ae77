"""The request of each operation, built by the generated package's request builders.

Only the shape (method, path, query, body) comes from the generated code; sending, retrying and parsing
are ours. Path ids are checked here: an empty id would turn ``GET /batches/{id}`` into the list route.

The operation modules are imported by name (inside each builder, so that they load with the first request,
not with the client): an operation or parameter that a regeneration renames or drops fails ``mypy --strict``
here, before any test runs.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

from siliconflow_batch_generated import models
from siliconflow_batch_generated.types import UNSET, File

from ._exceptions import InputValidationError
from ._http import RequestSpec
from ._problem import Problem
from .validation import MIN_PAGE_LIMIT, validate_create, validate_requests

__all__ = [
    "account_request",
    "cancel_request",
    "checked_file",
    "content_request",
    "create_request",
    "list_files_request",
    "list_request",
    "retrieve_request",
    "upload_request",
]


def _spec(kwargs: dict[str, Any], *, idempotent: bool, files: Any = None) -> RequestSpec:
    # Generated headers are not copied: for uploads they pin the multipart boundary to "+++", which a file
    # containing "\r\n--+++" would break; httpx picks a random boundary and sets the header itself.
    return RequestSpec(
        method=kwargs["method"].upper(),
        url=kwargs["url"],
        params=kwargs.get("params") or None,
        json=kwargs.get("json"),
        files=files,
        idempotent=idempotent,
    )


def _id(name: str, value: str) -> str:
    if not isinstance(value, str) or not value.strip():
        raise InputValidationError(f"invalid {name}", [Problem(name, f"must be a non-empty string, got {value!r}")])
    return value


def account_request() -> RequestSpec:
    """GET /user/info."""
    from siliconflow_batch_generated.api.user_info import user_info

    return _spec(user_info.request_kwargs(), idempotent=True)


def retrieve_request(batch_id: str) -> RequestSpec:
    """GET /batches/{batch_id}."""
    from siliconflow_batch_generated.api.default import get_batch

    return _spec(get_batch.request_kwargs(_id("batch_id", batch_id)), idempotent=True)


def cancel_request(batch_id: str) -> RequestSpec:
    """POST /batches/{batch_id}/cancel; cancelling twice is harmless, so it is retried like a read."""
    from siliconflow_batch_generated.api.default import cancel_batch

    return _spec(cancel_batch.request_kwargs(_id("batch_id", batch_id)), idempotent=True)


def _limit(limit: int | None) -> int | None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < MIN_PAGE_LIMIT):
        problem = Problem("limit", f"must be at least {MIN_PAGE_LIMIT}, got {limit!r}")
        raise InputValidationError("invalid limit", [problem])
    return limit


def list_request(*, limit: int | None, after: str | None) -> RequestSpec:
    """GET /batches?limit=&after=."""
    from siliconflow_batch_generated.api.default import list_batches

    limit = _limit(limit)
    kwargs = list_batches.request_kwargs(
        limit=UNSET if limit is None else limit, after=UNSET if after is None else after
    )
    return _spec(kwargs, idempotent=True)


def create_request(
    *,
    input_file_id: str,
    endpoint: str,
    completion_window: str,
    metadata: Mapping[str, str] | None,
    replace_model: str | None,
) -> RequestSpec:
    """POST /batches, after every parameter has been checked; never sent twice unless the first try did nothing."""
    from siliconflow_batch_generated.api.default import create_batch

    problems = validate_create(
        input_file_id=input_file_id,
        endpoint=endpoint,
        completion_window=completion_window,
        metadata=metadata,
        replace_model=replace_model,
    )
    if problems:
        raise InputValidationError("batch not created", problems)
    body = models.CreateBatchRequest(
        input_file_id=input_file_id,
        endpoint=models.BatchEndpoint(endpoint),
        completion_window=completion_window,
        metadata=None if metadata is None else models.CreateBatchRequestMetadata(additional_properties=dict(metadata)),
        replace=None if replace_model is None else models.CreateBatchRequestReplace(model=replace_model),
    )
    return _spec(create_batch.request_kwargs(body=body), idempotent=False)


def upload_request(handle: IO[bytes], filename: str) -> RequestSpec:
    """POST /files (multipart): the parts are rebuilt, and the file rewound, for every attempt."""
    from siliconflow_batch_generated.api.default import upload_file

    def kwargs() -> dict[str, Any]:
        handle.seek(0)
        file = File(payload=cast(BinaryIO, handle), file_name=filename, mime_type="application/jsonl")
        body = models.UploadFileRequest(purpose=models.FilePurpose.BATCH, file=file)
        kwargs: dict[str, Any] = upload_file.request_kwargs(body=body)
        return kwargs

    return _spec(kwargs(), idempotent=False, files=lambda: kwargs()["files"])


def list_files_request(*, limit: int | None) -> RequestSpec:
    """GET /files?purpose=batch&limit=."""
    from siliconflow_batch_generated.api.default import list_files

    limit = _limit(limit)
    return _spec(
        list_files.request_kwargs(purpose=models.ListFilesPurpose.BATCH, limit=UNSET if limit is None else limit),
        idempotent=True,
    )


def content_request(file_id_or_url: str) -> RequestSpec:
    """GET /files/{file_id}/content, or the result URL itself when the batch gave a full URL."""
    from siliconflow_batch_generated.api.default import get_file_content

    if isinstance(file_id_or_url, str) and file_id_or_url.startswith(("https://", "http://")):
        return RequestSpec(method="GET", url=file_id_or_url, idempotent=True, headers={"Accept": "*/*"})
    kwargs = get_file_content.request_kwargs(_id("file_id", file_id_or_url))
    return RequestSpec(method="GET", url=kwargs["url"], idempotent=True, headers={"Accept": "*/*"})


def checked_file(path: str | os.PathLike[str], validate: bool, replace_model: str | None) -> Path:
    """The upload's path, validated first unless told not to; never a path that cannot be read as a file."""
    file = Path(path)
    if validate:
        validate_requests(file, replace_model=replace_model).raise_for_problems()
    elif not file.is_file():
        reason = "is a directory, not a file" if file.is_dir() else "does not exist or is not a regular file"
        raise InputValidationError(f"{file} cannot be uploaded", [Problem("file", reason)])
    return file
