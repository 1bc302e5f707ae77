"""The file endpoints (``client.files``): upload, list and the content of a file (downloads, a batch's results)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, BinaryIO, cast

import httpx

from .. import _parse
from .._exceptions import InputValidationError
from . import Kwargs, operation, page_limit, path_id


@operation(parse=_parse.parse_uploaded_file, idempotent=False)
def upload_file(handle: IO[bytes], filename: str) -> Kwargs:
    """POST /files (multipart, purpose ``batch``): built again, the file rewound, for every attempt."""
    from siliconflow_batch_generated import models
    from siliconflow_batch_generated.api.default.upload_file import request_kwargs
    from siliconflow_batch_generated.types import File

    handle.seek(0)
    file = File(payload=cast(BinaryIO, handle), file_name=filename, mime_type="application/jsonl")
    return request_kwargs(body=models.UploadFileRequest(purpose=models.FilePurpose.BATCH, file=file))


@operation(parse=_parse.parse_file_list, idempotent=True)
def list_files(*, limit: int | None) -> Kwargs:
    """GET /files?purpose=batch&limit=."""
    from siliconflow_batch_generated import models
    from siliconflow_batch_generated.api.default.list_files import request_kwargs
    from siliconflow_batch_generated.types import UNSET

    limit = page_limit(limit)
    return request_kwargs(purpose=models.ListFilesPurpose.BATCH, limit=UNSET if limit is None else limit)


def _opened(response: httpx.Response) -> httpx.Response:
    return response


@operation(parse=_opened, idempotent=True, headers={"Accept": "*/*"})
def get_file_content(file_id_or_url: str) -> Kwargs:
    """GET /files/{file_id}/content, or the result URL itself when the batch gave a full URL.

    Its answer is a stream that the resource reads as it comes (the sender's ``open``), so ``parse`` leaves it as is.
    """
    if isinstance(file_id_or_url, str) and file_id_or_url.startswith(("https://", "http://")):
        return {"method": "GET", "url": file_id_or_url}
    from siliconflow_batch_generated.api.default.get_file_content import request_kwargs

    return request_kwargs(path_id("file_id", file_id_or_url))


def checked_file(path: str | os.PathLike[str], validate: bool, replace_model: str | None) -> Path:
    """The upload's path, validated first unless told not to; never a path that cannot be read as a file."""
    file = Path(path)
    if validate:
        from ..validation import validate_requests

        validate_requests(file, replace_model=replace_model).raise_for_problems()
    elif not file.is_file():
        from .._problem import Problem

        reason = "is a directory, not a file" if file.is_dir() else "does not exist or is not a regular file"
        raise InputValidationError(f"{file} cannot be uploaded", [Problem("file", reason)])
    return file
