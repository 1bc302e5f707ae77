"""Raw response access: ``client.batches.with_raw_response.retrieve(...)`` and friends, as in the openai SDK.

Each single-request call is defined here once; the ordinary methods are these plus ``.parse()``.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Generic, TypeVar

import httpx

from .._exceptions import InputValidationError, Problem
from .._http import AsyncSender, RequestSpec, Sender
from .._parse import parse_batch, parse_batch_page, parse_file_list, parse_uploaded_file
from .._requests import (
    cancel_request,
    create_request,
    list_files_request,
    list_request,
    retrieve_request,
    upload_request,
)
from ..types import Batch, BatchPage, FileObject
from ..validation import CHAT_COMPLETIONS, validate_create, validate_requests

__all__ = ["APIResponse", "AsyncRawBatches", "AsyncRawFiles", "RawBatches", "RawFiles"]

T = TypeVar("T")


class APIResponse(Generic[T]):
    """The HTTP response of one call and, on demand, its parsed value (what the ordinary method returns)."""

    def __init__(self, http_response: httpx.Response, parser: Callable[[httpx.Response], T]) -> None:
        self.http_response = http_response
        self._parser = parser
        self._parsed: list[T] = []

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        """The response headers (rate-limit and trace headers, say)."""
        return self.http_response.headers

    def parse(self) -> T:
        """The parsed value; parsed once, on the first call."""
        if not self._parsed:
            self._parsed.append(self._parser(self.http_response))
        return self._parsed[0]

    def __repr__(self) -> str:
        request = self.http_response.request
        return f"<APIResponse [{self.status_code}] {request.method} {request.url.path}>"


def create_spec(
    input_file_id: str,
    endpoint: str,
    completion_window: str,
    metadata: Mapping[str, str] | None,
    replace_model: str | None,
) -> RequestSpec:
    """The create request, after every parameter has been checked."""
    problems = validate_create(
        input_file_id=input_file_id,
        endpoint=endpoint,
        completion_window=completion_window,
        metadata=metadata,
        replace_model=replace_model,
    )
    if problems:
        raise InputValidationError("batch not created", problems)
    return create_request(
        input_file_id=input_file_id,
        endpoint=endpoint,
        completion_window=completion_window,
        metadata=metadata,
        replace_model=replace_model,
    )


def checked_file(path: str | os.PathLike[str], validate: bool, replace_model: str | None) -> Path:
    """The upload's path, validated first unless told not to; never a path that cannot be read as a file."""
    file = Path(path)
    if validate:
        validate_requests(file, replace_model=replace_model).raise_for_problems()
    elif not file.is_file():
        reason = "is a directory, not a file" if file.is_dir() else "does not exist or is not a regular file"
        raise InputValidationError(f"{file} cannot be uploaded", [Problem("file", reason)])
    return file


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
    ) -> APIResponse[Batch]:
        """POST /batches; see :meth:`Batches.create`."""
        spec = create_spec(input_file_id, endpoint, completion_window, metadata, replace_model)
        return APIResponse(self._sender.send(spec), parse_batch)

    def retrieve(self, batch_id: str) -> APIResponse[Batch]:
        """GET /batches/{batch_id}."""
        return APIResponse(self._sender.send(retrieve_request(batch_id)), parse_batch)

    def cancel(self, batch_id: str) -> APIResponse[Batch]:
        """POST /batches/{batch_id}/cancel."""
        return APIResponse(self._sender.send(cancel_request(batch_id)), parse_batch)

    def list(self, *, limit: int | None = None, after: str | None = None) -> APIResponse[BatchPage]:
        """One page of GET /batches."""
        return APIResponse(self._sender.send(list_request(limit=limit, after=after)), parse_batch_page)


class AsyncRawBatches:
    """The async twin of :class:`RawBatches`."""

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
        """POST /batches; see :meth:`Batches.create`."""
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


class RawFiles:
    """``client.files.with_raw_response``: the single-request file calls, returning :class:`APIResponse`."""

    def __init__(self, sender: Sender) -> None:
        self._sender = sender

    def upload(
        self, path: str | os.PathLike[str], *, validate: bool = True, replace_model: str | None = None
    ) -> APIResponse[FileObject]:
        """POST /files; see :meth:`Files.upload`."""
        file = checked_file(path, validate, replace_model)
        with file.open("rb") as handle:
            return APIResponse(self._sender.send(upload_request(handle, file.name)), parse_uploaded_file)

    def list(self, *, limit: int | None = None) -> APIResponse[list[FileObject]]:
        """GET /files."""
        return APIResponse(self._sender.send(list_files_request(limit=limit)), parse_file_list)


class AsyncRawFiles:
    """The async twin of :class:`RawFiles`."""

    def __init__(self, sender: AsyncSender) -> None:
        self._sender = sender

    async def upload(
        self, path: str | os.PathLike[str], *, validate: bool = True, replace_model: str | None = None
    ) -> APIResponse[FileObject]:
        """POST /files; see :meth:`Files.upload`."""
        file = checked_file(path, validate, replace_model)
        with file.open("rb") as handle:
            return APIResponse(await self._sender.send(upload_request(handle, file.name)), parse_uploaded_file)

    async def list(self, *, limit: int | None = None) -> APIResponse[list[FileObject]]:
        """GET /files."""
        return APIResponse(await self._sender.send(list_files_request(limit=limit)), parse_file_list)
