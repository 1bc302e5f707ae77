# Generated from _async/raw.py by scripts/unasync.py: edit that file, not this one.
"""``client.batches.with_raw_response`` and ``client.files.with_raw_response``.

Each single-request call, returning the HTTP response with its parsed value; the ordinary methods are these
plus ``.parse()``.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import TYPE_CHECKING, Unpack

from .. import _ops
from .._batch_logic import upload_name
from .._options import RequestOptions
from .._response import APIResponse
from ..validation import CHAT_COMPLETIONS
from .sender import Sender

if TYPE_CHECKING:
    from ..types import Batch, BatchPage, FileObject

__all__ = ["RawBatches", "RawFiles"]


class RawBatches:
    """``client.batches.with_raw_response``: the single-request batch calls, returning :class:`APIResponse`."""

    def __init__(self, sender: Sender) -> None:
        self._sender = sender

    def create(
        self,
        *,
        input_file_id: str,
        completion_window: str = "24h",
        endpoint: str = CHAT_COMPLETIONS,
        metadata: Mapping[str, str] | None = None,
        replace_model: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> APIResponse[Batch]:
        """POST /batches; see ``batches.create``."""
        spec = _ops.create_request(
            input_file_id=input_file_id,
            endpoint=endpoint,
            completion_window=completion_window,
            metadata=metadata,
            replace_model=replace_model,
        )
        return APIResponse(self._sender.send(spec, options=options), _ops.parse_batch)

    def retrieve(self, batch_id: str, **options: Unpack[RequestOptions]) -> APIResponse[Batch]:
        """GET /batches/{batch_id}."""
        return APIResponse(self._sender.send(_ops.retrieve_request(batch_id), options=options), _ops.parse_batch)

    def cancel(self, batch_id: str, **options: Unpack[RequestOptions]) -> APIResponse[Batch]:
        """POST /batches/{batch_id}/cancel."""
        return APIResponse(self._sender.send(_ops.cancel_request(batch_id), options=options), _ops.parse_batch)

    def list(
        self, *, limit: int | None = None, after: str | None = None, **options: Unpack[RequestOptions]
    ) -> APIResponse[BatchPage]:
        """One page of GET /batches."""
        spec = _ops.list_request(limit=limit, after=after)
        return APIResponse(self._sender.send(spec, options=options), _ops.parse_batch_page)


class RawFiles:
    """``client.files.with_raw_response``: the single-request file calls, returning :class:`APIResponse`."""

    def __init__(self, sender: Sender) -> None:
        self._sender = sender

    def upload(
        self,
        path: str | os.PathLike[str],
        *,
        validate: bool = True,
        replace_model: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> APIResponse[FileObject]:
        """POST /files; see ``files.upload`` (a name not ending in ``.jsonl`` is sent with the suffix added)."""
        file = _ops.checked_file(path, validate, replace_model)
        with file.open("rb") as handle:
            response = self._sender.send(_ops.upload_request(handle, upload_name(file)), options=options)
            return APIResponse(response, _ops.parse_uploaded_file)

    def list(self, *, limit: int | None = None, **options: Unpack[RequestOptions]) -> APIResponse[list[FileObject]]:
        """GET /files."""
        return APIResponse(
            self._sender.send(_ops.list_files_request(limit=limit), options=options), _ops.parse_file_list
        )
