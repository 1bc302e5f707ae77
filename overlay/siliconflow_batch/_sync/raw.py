# Generated from _async/raw.py by scripts/unasync.py: edit that file, not this one.
"""``client.batches.with_raw_response`` and ``client.files.with_raw_response``.

Each is the resource's own single-request methods, returning the HTTP response with its parsed value
(:class:`APIResponse`), derived by ``_response.raw_view`` as openai-python derives its raw responses: the
parameters, checks and retries are the methods' own, stated once. A method's requests on the way (a create
looked up by its key) are parsed as usual; the response given back is the call's own, or the last one it made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._response import raw_view

if TYPE_CHECKING:
    from .batches import Batches
    from .files import Files

__all__ = ["RawBatches", "RawFiles"]


class RawBatches:
    """``client.batches.with_raw_response``: ``create``, ``retrieve``, ``cancel`` and ``list`` (one page)."""

    def __init__(self, batches: Batches) -> None:
        self.create = raw_view(batches.create)
        self.retrieve = raw_view(batches.retrieve)
        self.cancel = raw_view(batches.cancel)
        self.list = raw_view(batches.page)


class RawFiles:
    """``client.files.with_raw_response``: ``upload`` and ``list``."""

    def __init__(self, files: Files) -> None:
        self.upload = raw_view(files.upload)
        self.list = raw_view(files.list)
