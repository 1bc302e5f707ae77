# Generated from _async/files.py by scripts/unasync.py: edit that file, not this one.
"""``client.files``: upload (validated first), list, and download without ever leaving a half-written file."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import TYPE_CHECKING, Unpack

import httpx

from .. import _http
from .._atomic import atomic_write, check_destination
from .._batch_logic import read_failure, upload_name
from .._exceptions import without_query
from .._operations import files as ops
from .._options import RequestOptions
from .._response import single_request
from .._retry import Attempts
from .raw import RawFiles
from .resource import Resource

if TYPE_CHECKING:
    from ..types import FileObject

__all__ = ["Files"]

PathLike = str | os.PathLike[str]


def _target(destination: PathLike) -> Path:
    target = Path(destination)
    with contextlib.suppress(OSError):  # check_destination says what is wrong with the path
        target.parent.mkdir(parents=True, exist_ok=True)
    check_destination(target)
    return target


class Files(Resource[RawFiles]):
    """File operations of :class:`~siliconflow_batch.SiliconFlow`."""

    @single_request
    def upload(
        self,
        path: PathLike,
        *,
        validate: bool = True,
        replace_model: str | None = None,
        **options: Unpack[RequestOptions],
    ) -> FileObject:
        """Upload a batch input JSONL file (purpose ``batch``).

        With ``validate`` (the default) the file is checked first and :class:`InputValidationError` lists every
        problem, so a bad file is never sent. Pass ``replace_model`` if the batch will override the model.
        The vendor accepts only ``.jsonl`` names, so a file named otherwise is sent under its name with the
        suffix added (``requests.txt`` as ``requests.txt.jsonl``); the file itself is not renamed.
        """
        file = ops.checked_file(path, validate, replace_model)
        with file.open("rb") as handle:
            return self._sender.call(ops.upload_file(handle, upload_name(file)), options)

    @single_request
    def list(self, *, limit: int | None = None, **options: Unpack[RequestOptions]) -> list[FileObject]:
        """The uploaded batch files (the server's default page size unless ``limit`` is given)."""
        return self._sender.call(ops.list_files(limit=limit), options)

    def download(self, file_id_or_url: str, destination: PathLike, **options: Unpack[RequestOptions]) -> Path:
        """Save a file (an id, or a batch's full result URL) to ``destination``, atomically.

        The bytes go to a temporary file beside it that is renamed only once complete: an interrupted or
        failed download never leaves a partial file under ``destination``. A download that breaks off is
        started again, up to ``max_retries`` times.
        """
        call = ops.get_file_content(file_id_or_url)
        target = _target(destination)
        attempts = Attempts(self._sender.max_retries)
        while True:
            try:
                with atomic_write(target) as out:
                    response = self._sender.open(call, options)
                    try:
                        for chunk in response.iter_bytes():
                            out.write(chunk)
                    finally:
                        response.close()
                return target
            except httpx.HTTPError as error:  # the body broke off after a good start
                delay = attempts.delay_after(error)
                if delay is None:
                    raise read_failure(
                        f"GET {without_query(call.spec.url)}: the download", error, attempts.failures
                    ) from error
                _http.sleep(delay)
