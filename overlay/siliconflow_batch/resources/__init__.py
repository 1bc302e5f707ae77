"""The resources of a client: ``client.files`` and ``client.batches``."""

from .batches import AsyncBatches, Batches
from .files import AsyncFiles, Files

__all__ = ["AsyncBatches", "AsyncFiles", "Batches", "Files"]
