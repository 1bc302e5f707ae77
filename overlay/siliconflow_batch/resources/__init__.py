"""The resource classes behind ``client.batches``, ``client.files``, ``client.account`` and ``client.jobs``.

The async classes are the source (``_async/``); the sync ones are generated from them (``_sync/``). The raw views
(``with_raw_response``) are written by scripts/raw_views.py from the resources' ``@single_request`` methods.
"""

from .._async.account import AsyncAccount
from .._async.batches import AsyncBatches
from .._async.files import AsyncFiles
from .._async.jobs import AsyncJobs
from .._async.raw import AsyncRawAccount, AsyncRawBatches, AsyncRawFiles
from .._sync.account import Account
from .._sync.batches import Batches
from .._sync.files import Files
from .._sync.jobs import Jobs
from .._sync.raw import RawAccount, RawBatches, RawFiles

__all__ = [
    "Account",
    "AsyncAccount",
    "AsyncBatches",
    "AsyncFiles",
    "AsyncJobs",
    "AsyncRawAccount",
    "AsyncRawBatches",
    "AsyncRawFiles",
    "Batches",
    "Files",
    "Jobs",
    "RawAccount",
    "RawBatches",
    "RawFiles",
]
