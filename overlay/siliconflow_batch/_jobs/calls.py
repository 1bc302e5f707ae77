"""How a job's calls are made: the options of ``jobs.submit``, ``jobs.run``, ``job.wait`` and ``job.step``.

Each option is stated once, in the TypedDict of the calls that take it, with its default here; ``run`` takes
the union and hands each call its part. The job's own settings (kept in its ledger) are :class:`JobOptions`.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any, TypedDict, TypeVar, cast

from .._defaults import (
    DEFAULT_JOB_MAX_POLL_INTERVAL,
    DEFAULT_JOB_POLL_INTERVAL,
    DEFAULT_MAX_CONCURRENCY,
    DEFAULT_MAX_OUTAGE,
    DEFAULT_RESULT_GRACE,
)
from .._exceptions import InputValidationError
from .._problem import Problem
from .settings import JobOptions

if TYPE_CHECKING:
    from ..pricing import PriceTable
    from .status import JobStatus

__all__ = [
    "OnProgress",
    "RunOptions",
    "SendOptions",
    "StepOptions",
    "SubmitOptions",
    "WaitOptions",
    "checked_concurrency",
    "only",
    "pacing",
    "result_grace",
    "send_settings",
]

OnProgress = Callable[["JobStatus"], object]
_T = TypeVar("_T")


class SendOptions(TypedDict, total=False):
    """How a job's requests are sent (``submit``, ``wait``, ``step``, ``run``).

    ``max_outage`` (600 s): a failure that may pass (a 5xx, a 429, a dropped connection) is tried again while the
    server keeps answering, for up to this many seconds of failures in a row. ``max_concurrency`` (4): shards
    uploaded and created, and result files downloaded, at once (the async client; the sync one goes one at a time).
    """

    max_outage: float
    max_concurrency: int


class StepOptions(SendOptions, total=False):
    """What ``job.step`` takes: :class:`SendOptions`, and ``result_grace``.

    ``result_grace`` (600 s): how long a result file that answers 404 (the vendor's can, just after a batch ends)
    is asked for again before its lines count as missing and are sent again.
    """

    result_grace: float


class WaitOptions(StepOptions, total=False):
    """What ``job.wait`` takes: :class:`StepOptions`, and the pacing.

    ``on_progress`` (called with the status whenever it changes), ``poll_interval`` (30 s) stretching while
    nothing changes up to ``max_poll_interval`` (300 s), and ``timeout`` (None: none; else seconds, then
    :class:`WaitTimeoutError`).
    """

    on_progress: OnProgress | None
    poll_interval: float
    max_poll_interval: float
    timeout: float | None


class SubmitOptions(JobOptions, SendOptions, total=False):
    """What ``jobs.submit`` takes: the job's settings (:class:`JobOptions`), :class:`SendOptions`, and three more.

    ``job_id`` (default: the directory's name), ``require_balance`` (False: a zero recharged balance only warns)
    and ``prices`` (a :class:`PriceTable` or a price file; default: ``PriceTable.load()``).
    """

    job_id: str | None
    require_balance: bool
    prices: PriceTable | str | os.PathLike[str] | None


class RunOptions(SubmitOptions, WaitOptions, total=False):
    """What ``jobs.run`` takes: :class:`SubmitOptions` and :class:`WaitOptions`."""


def only(options: Mapping[str, Any], kind: type[_T], *, checked: bool = False) -> _T:
    """The part of ``options`` that ``kind`` (one of the TypedDicts above, or JobOptions) names.

    ``checked``: a name that ``kind`` does not know is a TypeError, as a misspelt keyword argument would be.
    """
    names: frozenset[str] = kind.__optional_keys__  # type: ignore[attr-defined]
    unknown = sorted(set(options) - names)
    if checked and unknown:
        raise TypeError(f"unexpected options {unknown}; known: {sorted(names)}")
    return cast(_T, {name: value for name, value in options.items() if name in names})


def checked_concurrency(value: int) -> int:
    """``max_concurrency`` as given, once checked (a whole number >= 1)."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise InputValidationError("nothing was sent", [Problem("max_concurrency", f"must be >= 1, got {value!r}")])
    return value


def send_settings(options: SendOptions) -> tuple[float, int]:
    """(``max_outage``, ``max_concurrency``) with their defaults, the latter checked."""
    return (
        options.get("max_outage", DEFAULT_MAX_OUTAGE),
        checked_concurrency(options.get("max_concurrency", DEFAULT_MAX_CONCURRENCY)),
    )


def result_grace(options: StepOptions) -> float:
    """``result_grace`` with its default."""
    return options.get("result_grace", DEFAULT_RESULT_GRACE)


def pacing(options: WaitOptions) -> tuple[float, float, float | None]:
    """(``poll_interval``, ``max_poll_interval``, ``timeout``) with their defaults."""
    return (
        options.get("poll_interval", DEFAULT_JOB_POLL_INTERVAL),
        options.get("max_poll_interval", DEFAULT_JOB_MAX_POLL_INTERVAL),
        options.get("timeout"),
    )
