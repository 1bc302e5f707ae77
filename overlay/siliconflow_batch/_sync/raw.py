# Generated from _async/raw.py by scripts/unasync.py: edit that file, not this one.
# Written by scripts/raw_views.py from the @single_request methods of _async/: never edit this file.
"""``with_raw_response`` of ``client.account``, ``client.batches`` and ``client.files``.

Each is its resource's single-request methods (marked ``@single_request``), returning the HTTP response
with its parsed value (:class:`APIResponse`), derived by ``_response.raw_view`` as openai-python
derives its raw responses: the parameters, checks and retries are the methods' own, stated once. A
method's requests on the way (a create looked up by its key) are parsed as usual; the response given back
is the call's own, or the last one it made.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .._response import raw_view

if TYPE_CHECKING:
    from .account import Account
    from .batches import Batches
    from .files import Files

__all__ = ["RawAccount", "RawBatches", "RawFiles"]


class RawAccount:
    """``client.account.with_raw_response``: ``retrieve``."""

    def __init__(self, account: Account) -> None:
        self.retrieve = raw_view(account.retrieve)


class RawBatches:
    """``client.batches.with_raw_response``: ``create``, ``retrieve``, ``cancel`` and ``list`` (``batches.page``)."""

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
