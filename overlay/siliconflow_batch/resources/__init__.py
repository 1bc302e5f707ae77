"""The resource classes behind ``client.batches``, ``client.files``, ``client.account`` and ``client.jobs``.

The async classes are the source (``_async/``); the sync ones are generated from them (``_sync/``).
"""

from .._async.account import AsyncAccount
from .._async.batches import AsyncBatches
from .._async.files import AsyncFiles
from .._async.jobs import AsyncJobs
from .._async.raw import AsyncRawBatches, AsyncRawFiles
from .._sync.account import Account
from .._sync.batches import Batches
from .._sync.files import Files
from .._sync.jobs import Jobs
from .._sync.raw import RawBatches, RawFiles

__all__ = [
    "Account",
    "AsyncAccount",
    "AsyncBatches",
    "AsyncFiles",
    "AsyncJobs",
    "AsyncRawBatches",
    "AsyncRawFiles",
    "Batches",
    "Files",
    "Jobs",
    "RawBatches",
    "RawFiles",
]
