"""What the batch resources decide, free of I/O: idempotency keys, result sources, and when results are final."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

import httpx

from ._exceptions import (
    APIConnectionError,
    BatchNotFinishedError,
    InternalServerError,
    SiliconFlowError,
    without_query,
)
from ._http import logger
from ._results import ResultLineError, Source

if TYPE_CHECKING:
    from ._records import BatchResult
    from .types import Batch

__all__ = [
    "AMBIGUOUS",
    "DEFAULT_POLL_INTERVAL",
    "IDEMPOTENCY_KEY",
    "LOOKUP_LIMIT",
    "check_finished",
    "has_key",
    "keyed",
    "metadata_value",
    "read_failure",
    "result_sources",
    "skip_or_raise",
]

DEFAULT_POLL_INTERVAL = 30.0
IDEMPOTENCY_KEY = "idempotency_key"
# How far back (newest first) a create that may have succeeded is looked for.
LOOKUP_LIMIT = 500
# Failures after which a create may or may not have happened on the server.
AMBIGUOUS: tuple[type[SiliconFlowError], ...] = (APIConnectionError, InternalServerError)


def keyed(metadata: Mapping[str, str] | None, key: str | None) -> Mapping[str, str] | None:
    """The metadata to send: the caller's, plus the idempotency key when there is one."""
    return metadata if key is None else {**(metadata or {}), IDEMPOTENCY_KEY: key}


def metadata_value(batch: Batch, name: str) -> str | None:
    """The batch's metadata value for ``name``, or None (no such pair, or metadata of another shape)."""
    from .types import BatchMetadata

    metadata = batch.metadata
    return metadata[name] if isinstance(metadata, BatchMetadata) and name in metadata else None


def has_key(batch: Batch, key: str) -> bool:
    """Whether ``batch`` was created with idempotency key ``key``."""
    return metadata_value(batch, IDEMPOTENCY_KEY) == key


def result_sources(batch: Batch) -> list[tuple[Source, str]]:
    """The batch's result files to read, output first: (source, file id or URL)."""
    sources: list[tuple[Source, str]] = []
    if isinstance(batch.output_file_id, str) and batch.output_file_id:
        sources.append(("output", batch.output_file_id))
    if isinstance(batch.error_file_id, str) and batch.error_file_id:
        sources.append(("error", batch.error_file_id))
    return sources


def check_finished(batch: Batch, partial: bool) -> None:
    """Raise BatchNotFinishedError for a batch still running, unless partial results were asked for."""
    if not partial and not batch.is_terminal:
        raise BatchNotFinishedError(
            f"batch {batch.id} is {batch.status}: its results are not final until it ends "
            "(wait for it, or pass partial=True for what it has so far)",
            batch=batch,
        )


def read_failure(file_ref: str, error: httpx.HTTPError, failures: int) -> APIConnectionError:
    """The error for a result file whose reading broke off too often (a URL's signature is not quoted)."""
    return APIConnectionError(
        f"reading {without_query(file_ref)} broke off {failures} times, last with {type(error).__name__}"
    )


def skip_or_raise(error: ResultLineError, skip_bad_lines: bool) -> BatchResult | None:
    """Log and skip a bad line (None) when asked to; raise it otherwise."""
    if not skip_bad_lines:
        raise error
    logger.warning("skipped a bad result line: %s", error)
    return None
