"""What the batch resources decide, free of I/O: idempotency keys, result sources, and when results are final."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import TYPE_CHECKING

import httpx

from ._exceptions import (
    APIConnectionError,
    APIError,
    BatchNotFinishedError,
    InputValidationError,
)
from ._failures import may_pass
from ._http import logger
from ._problem import Problem
from ._results import ResultLineError, Source
from .validation import MAX_METADATA_PAIRS

if TYPE_CHECKING:
    from ._records import BatchResult
    from .types import Batch

__all__ = [
    "IDEMPOTENCY_KEY",
    "LOOKUP_LIMIT",
    "check_finished",
    "create_key",
    "has_key",
    "keyed",
    "maybe_created",
    "metadata_value",
    "name_the_key",
    "new_idempotency_key",
    "read_failure",
    "result_sources",
    "skip_or_raise",
    "upload_name",
]

IDEMPOTENCY_KEY = "idempotency_key"
# How far back (newest first) a create that may have succeeded is looked for.
LOOKUP_LIMIT = 500
# The file name the vendor accepts for a batch input: it refuses any other (400).
UPLOAD_SUFFIX = ".jsonl"


def new_idempotency_key() -> str:
    """A key for one create call that was given none: random, so two calls never share one."""
    return f"sfb-{uuid.uuid4().hex}"


def create_key(metadata: Mapping[str, str] | None, key: str | None) -> tuple[str, bool]:
    """The idempotency key a create carries, and whether the caller chose it (else it is new, for this call).

    The caller's ``key``, else an ``idempotency_key`` pair the caller put in ``metadata``, else a new one.
    """
    given = metadata.get(IDEMPOTENCY_KEY) if isinstance(metadata, Mapping) else None
    if key is None:
        return (given, True) if isinstance(given, str) and given else (new_idempotency_key(), False)
    problems = []
    if not isinstance(key, str) or not key:
        problems.append(Problem("idempotency_key", f"must be a non-empty string, got {key!r}"))
    elif given is not None and given != key:
        problems.append(Problem("idempotency_key", f"is {key!r} but metadata[{IDEMPOTENCY_KEY!r}] is {given!r}"))
    if problems:
        raise InputValidationError("batch not created", problems)
    return key, True


def keyed(metadata: Mapping[str, str] | None, key: str | None) -> Mapping[str, str] | None:
    """The metadata to send: the caller's, plus the idempotency key when there is one."""
    return metadata if key is None else {**(metadata or {}), IDEMPOTENCY_KEY: key}


def name_the_key(problems: Sequence[Problem], sent: Mapping[str, str]) -> list[Problem]:
    """``problems`` of the metadata ``sent`` (the caller's plus the key), the pair count's saying so.

    The vendor allows 16 pairs and the idempotency key takes one of them, so a caller has 15; a message that
    said "the limit is 16" to someone who gave 16 would be a riddle.
    """
    if IDEMPOTENCY_KEY not in sent:
        return list(problems)
    count = f"has {len(sent)} pairs; the limit is {MAX_METADATA_PAIRS}"
    named = (
        f"has {len(sent) - 1} pairs besides the idempotency key; the limit is {MAX_METADATA_PAIRS - 1} "
        f"(the key takes one of the {MAX_METADATA_PAIRS} pairs a batch may carry)"
    )
    return [Problem(p.field, named, p.line) if p.field == "metadata" and p.message == count else p for p in problems]


def maybe_created(error: APIError, key: str) -> APIError:
    """``error``, its message saying that the batch may exist and how to find it (or get it by re-running)."""
    hint = (
        f"; the batch may have been created: it would carry idempotency_key={key} in its metadata "
        f"(see `siliconflow-batch list`, or client.batches.find({key!r})); "
        f"create again with that key (--idempotency-key {key}) to get it rather than a second batch"
    )
    if hint not in error.message:
        error.message += hint
        error.args = (error.message, *error.args[1:])
    return error


def upload_name(path: PurePath) -> str:
    """The name a file is uploaded under: its own, ending in ``.jsonl`` as the vendor requires.

    ``requests.jsonl`` stays; ``requests.JSONL`` becomes ``requests.jsonl``; any other name gets the suffix
    added, so that it stays recognisable: ``requests.txt`` is sent as ``requests.txt.jsonl``.
    """
    name = path.name
    if name.endswith(UPLOAD_SUFFIX):
        return name
    if name.lower().endswith(UPLOAD_SUFFIX) and len(name) > len(UPLOAD_SUFFIX):
        return name[: -len(UPLOAD_SUFFIX)] + UPLOAD_SUFFIX
    return name + UPLOAD_SUFFIX


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


def read_failure(what: str, error: httpx.HTTPError, failures: int) -> APIError:
    """The error for a body whose reading failed (``what``: the read, its URL's signature not quoted).

    A read that broke off too often may pass later (:class:`APIConnectionError`, which a job's loop waits out);
    one that will fail the same way again (a body that will not decode) is a plain, final :class:`APIError`.
    """
    if not may_pass(error):
        return APIError(f"{what} failed with {type(error).__name__}, which reading it again cannot mend")
    return APIConnectionError(f"{what} broke off {failures} times, last with {type(error).__name__}")


def skip_or_raise(error: ResultLineError, skip_bad_lines: bool) -> BatchResult | None:
    """Log and skip a bad line (None) when asked to; raise it otherwise."""
    if not skip_bad_lines:
        raise error
    logger.warning("skipped a bad result line: %s", error)
    return None
