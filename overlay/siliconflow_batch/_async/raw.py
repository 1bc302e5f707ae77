"""``client.batches.with_raw_response`` and ``client.files.with_raw_response``.

Each single-request call, returning the HTTP response with its parsed value; the ordinary methods are these
plus ``.parse()``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping

from .._parse import parse_batch, parse_batch_page, parse_file_list, parse_uploaded_file
from .._requests import (
    cancel_request,
    checked_file,
    create_spec,
    list_files_request,
    list_request,
    retrieve_request,
    upload_request,
)
from .._response import APIResponse
from ..types import Batch, BatchPage, FileObject
from ..validation import CHAT_COMPLETIONS
from .sender import AsyncSender

__all__ = ["AsyncRawBatches", "AsyncRawFiles"]


class AsyncRawBatches:
    """``client.batches.with_raw_response``: the single-request batch calls, returning :class:`APIResponse`."""

    def __init__(self, sender: AsyncSender) -> None:
        self._sender = sender

    async def create(
        self,
        *,
        input_file_id: str,
        completion_window: str = "24h",
        endpoint: str = CHAT_COMPLETIONS,
        metadata: Mapping[str, str] | None = None,
        replace_model: str | None = None,
    ) -> APIResponse[Batch]:
        """POST /batches; see ``batches.create``."""
        spec = create_spec(input_file_id, endpoint, completion_window, metadata, replace_model)
        return APIResponse(await self._sender.send(spec), parse_batch)

    async def retrieve(self, batch_id: str) -> APIResponse[Batch]:
        """GET /batches/{batch_id}."""
        return APIResponse(await self._sender.send(retrieve_request(batch_id)), parse_batch)

    async def cancel(self, batch_id: str) -> APIResponse[Batch]:
        """POST /batches/{batch_id}/cancel."""
        return APIResponse(await self._sender.send(cancel_request(batch_id)), parse_batch)

    async def list(self, *, limit: int | None = None, after: str | None = None) -> APIResponse[BatchPage]:
        """One page of GET /batches."""
        return APIResponse(await self._sender.send(list_request(limit=limit, after=after)), parse_batch_page)


class AsyncRawFiles:
    """``client.files.with_raw_response``: the single-request file calls, returning :class:`APIResponse`."""

    def __init__(self, sender: AsyncSender) -> None:
        self._sender = sender

    async def upload(
        self, path: str | os.PathLike[str], *, validate: bool = True, replace_model: str | None = None
    ) -> APIResponse[FileObject]:
        """POST /files; see ``files.upload``."""
        file = checked_file(path, validate, replace_model)
        with file.open("rb") as handle:
            return APIResponse(await self._sender.send(upload_request(handle, file.name)), parse_uploaded_file)

    async def list(self, *, limit: int | None = None) -> APIResponse[list[FileObject]]:
        """GET /files."""
        return APIResponse(await self._sender.send(list_files_request(limit=limit)), parse_file_list)
