"""The resources of a client: ``client.files`` and ``client.batches``."""

from .batches import AsyncBatches, Batches
from .files import AsyncFiles, Files
from .raw import APIResponse, AsyncRawBatches, AsyncRawFiles, RawBatches, RawFiles

__all__ = [
    "APIResponse",
    "AsyncBatches",
    "AsyncFiles",
    "AsyncRawBatches",
    "AsyncRawFiles",
    "Batches",
    "Files",
    "RawBatches",
    "RawFiles",
]
