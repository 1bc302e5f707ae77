"""What a job decides, free of network I/O.

The tags its batches carry, which outcomes are retried, the ingest of an ended shard's result files into the
ledger, and the job's status.
"""

from __future__ import annotations

import json
import sqlite3
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypedDict

import attrs

from ._batch_logic import IDEMPOTENCY_KEY, metadata_value
from ._exceptions import InputValidationError, JobError, JobInputMismatchError
from ._http import logger
from ._job_input import ShardLimits
from ._problem import Problem

if TYPE_CHECKING:
    from .types import Batch
from ._job_ledger import Ledger, RequestRow, ShardRow
from ._model import JSONModel
from ._records import BatchResult
from ._results import MISSING_RESULT, ResultLineError, Source, parse_result_line
from .pricing import ModelUsage, PriceTable, TokenUsage
from .validation import CHAT_COMPLETIONS, MAX_METADATA_PAIRS, MAX_METADATA_VALUE, validate_create

__all__ = [
    "RESERVED_METADATA",
    "TAG_ATTEMPT",
    "TAG_INPUT",
    "TAG_JOB",
    "TAG_PLAN",
    "TAG_SHARD",
    "JobSettings",
    "JobStatus",
    "Plan",
    "classify",
    "idempotency_key",
    "ingest",
    "job_status",
    "recovered_settings",
    "refuse_shard",
    "result_of",
    "tags",
]

# Every batch of a job carries these in its metadata, so that the server alone can say which job, input, shard
# and attempt it belongs to (``recover``), plus the idempotency key that makes its create happen once.
TAG_JOB = "sf_job"
TAG_INPUT = "sf_input"  # the first 16 hex digits of the input's SHA-256
TAG_SHARD = "sf_shard"
TAG_ATTEMPT = "sf_attempt"
TAG_PLAN = "sf_plan"  # the cut that made the shard (Plan): what recover needs to cut it again
RESERVED_METADATA = 6  # the five tags and the idempotency key
RESERVED_KEYS = frozenset({TAG_JOB, TAG_INPUT, TAG_SHARD, TAG_ATTEMPT, TAG_PLAN, IDEMPOTENCY_KEY})
PLAN_VERSION = "1"

Outcome = Literal["ok", "retry", "failed"]
_OVERLOADED = "50505"
_CANCELLED = {"code": "cancelled", "message": "the job was cancelled before this request ran"}


class JobOptions(TypedDict, total=False):
    """A job's settings, as ``jobs.submit``, ``jobs.run`` and ``jobs.recover`` take them (all optional).

    ``completion_window`` ("24h"; 24h to 336h), ``replace_model`` (run every request on this model; without it,
    one model per shard), ``metadata`` (your pairs on every batch: at most 10, the job adds 6), ``max_attempts``
    (3: how many times a request may be sent), ``max_shard_lines`` (the vendor's 5,000, or fewer) and
    ``max_shard_bytes`` (1 GB less 1 MiB, or fewer). A resumed job goes on with the settings it began with.
    """

    completion_window: str
    replace_model: str | None
    metadata: Mapping[str, str] | None
    max_attempts: int
    max_shard_lines: int
    max_shard_bytes: int


@dataclass(frozen=True)
class JobSettings:
    """What a job was started with; kept in its ledger, so that a resumed job goes on as it began."""

    job_id: str
    completion_window: str
    replace_model: str | None
    metadata: dict[str, str]
    max_attempts: int
    limits: ShardLimits

    def to_json(self) -> dict[str, Any]:
        """The settings as the ledger stores them."""
        return {**{k: v for k, v in self.__dict__.items() if k != "limits"}, "limits": self.limits.__dict__}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> JobSettings:
        """The settings the ledger stored."""
        return cls(**{**data, "limits": ShardLimits(**data["limits"])})

    @classmethod
    def checked(cls, job_dir: Path, job_id: str | None, options: JobOptions) -> JobSettings:
        """The settings from ``options``, every one checked before anything is read, written or sent."""
        unknown = sorted(set(options) - set(JobOptions.__annotations__))
        if unknown:
            raise TypeError(f"unexpected job options {unknown}; known: {sorted(JobOptions.__annotations__)}")
        job_id = job_id if job_id is not None else job_dir.resolve().name
        window = options.get("completion_window", "24h")
        replace_model = options.get("replace_model")
        metadata = options.get("metadata")
        max_attempts = options.get("max_attempts", 3)
        defaults = ShardLimits()
        limits = ShardLimits(
            options.get("max_shard_lines", defaults.lines), options.get("max_shard_bytes", defaults.bytes)
        )
        problems = validate_create(
            input_file_id="(each shard's file)",
            endpoint=CHAT_COMPLETIONS,
            completion_window=window,
            metadata=metadata,
            replace_model=replace_model,
        )
        yours = MAX_METADATA_PAIRS - RESERVED_METADATA
        if metadata is not None and len(metadata) > yours:
            problems.append(
                Problem("metadata", f"has {len(metadata)} pairs; a job's batches carry {RESERVED_METADATA} of "
                        f"their own, so at most {yours} are yours")
            )  # fmt: skip
        if metadata is not None and set(metadata) & {TAG_JOB, TAG_INPUT, TAG_SHARD, TAG_ATTEMPT, TAG_PLAN}:
            problems.append(
                Problem(
                    "metadata", f"the keys {TAG_JOB}, {TAG_INPUT}, {TAG_SHARD}, {TAG_ATTEMPT}, {TAG_PLAN} are the job's"
                )
            )
        if not job_id.strip() or len(job_id) > 200:
            problems.append(Problem("job_id", f"must be 1 to 200 characters, got {len(job_id)}"))
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            problems.append(Problem("max_attempts", f"must be a whole number >= 1, got {max_attempts!r}"))
        problems += limits.problems()
        if problems:
            raise InputValidationError("nothing was sent", problems)
        return cls(job_id, window, replace_model, dict(metadata or {}), max_attempts, limits)


def _ranges(numbers: Sequence[int]) -> str:
    """``1-3.7.9-12`` for [1, 2, 3, 7, 9, 10, 11, 12]; ``0`` for none."""
    parts: list[str] = []
    start = previous = None
    for number in sorted(numbers):
        if previous is not None and number == previous + 1:
            previous = number
            continue
        if start is not None:
            parts.append(str(start) if start == previous else f"{start}-{previous}")
        start = previous = number
    if start is not None:
        parts.append(str(start) if start == previous else f"{start}-{previous}")
    return ".".join(parts) or "0"


def _unranges(text: str) -> tuple[int, ...]:
    if text == "0":
        return ()
    numbers: list[int] = []
    for part in text.split("."):
        low, _, high = part.partition("-")
        numbers += range(int(low), int(high or low) + 1)
    return tuple(numbers)


@dataclass(frozen=True)
class Plan:
    """The cut that made a shard, as its batch's metadata carries it (``sf_plan``).

    A cut takes every request that the shards ``parents`` sent back to wait (none: the job's first cut, the
    whole input) and puts them into shards numbered from ``first``, under the job's settings that decide a
    cut. The cut is a pure function of these, the input and the parents' result files (which the vendor
    serves for 30 days), so the server's batches alone let ``recover`` rebuild every shard: the input files
    themselves are never read back (the vendor does not serve them).
    """

    lines: int
    bytes: int
    max_attempts: int
    replace_model: str | None
    first: int
    parents: tuple[int, ...] = ()

    def encode(self) -> str:
        """The metadata value: ``1;l=LINES;b=BYTES;a=ATTEMPTS;f=FIRST;p=PARENTS;r=MODEL`` (r last, any text)."""
        return (
            f"{PLAN_VERSION};l={self.lines};b={self.bytes};a={self.max_attempts};f={self.first};"
            f"p={_ranges(self.parents)};r={self.replace_model or ''}"
        )

    @classmethod
    def decode(cls, value: str | None) -> Plan | None:
        """The plan in a metadata value; None for no value, or one of another version or shape."""
        if not value or not value.startswith(f"{PLAN_VERSION};"):
            return None
        head, _, model = value.partition(";r=")
        try:
            fields = dict(part.split("=", 1) for part in head.split(";")[1:])
            return cls(
                int(fields["l"]), int(fields["b"]), int(fields["a"]), model or None, int(fields["f"]),
                _unranges(fields["p"]),
            )  # fmt: skip
        except (KeyError, ValueError):
            return None

    @staticmethod
    def groups(parents: Sequence[int], settings: JobSettings) -> list[tuple[int, ...]]:
        """``parents`` in order, in groups small enough that each group's plan fits one metadata value."""
        found: list[tuple[int, ...]] = []
        group: list[int] = []
        for parent in parents:
            trial = Plan.of(settings, first=10**9, parents=(*group, parent))
            if group and len(trial.encode()) > MAX_METADATA_VALUE:
                found.append(tuple(group))
                group = []
            group.append(parent)
        if group:
            found.append(tuple(group))
        return found

    @classmethod
    def of(cls, settings: JobSettings, *, first: int, parents: tuple[int, ...]) -> Plan:
        """The plan of a cut of this job."""
        limits = settings.limits
        return cls(limits.lines, limits.bytes, settings.max_attempts, settings.replace_model, first, parents)


def recovered_settings(checked: JobSettings, options: JobOptions, batches: list[Batch]) -> JobSettings:
    """A recovered job's settings: what decides a cut from its batches' plans, the rest from ``options``.

    A window or metadata not given in ``options`` is taken from the job's newest batch.
    """
    if not batches:
        return checked
    plans = []
    for batch in batches:
        plan = Plan.decode(metadata_value(batch, TAG_PLAN))
        if plan is None:
            raise JobError(
                f"batch {batch.id} of job {checked.job_id} does not record how it was cut (it was created by a "
                "version of siliconflow-batch before 0.5): recover cannot rebuild this job from the server"
            )
        plans.append(plan)
    plan = plans[0]
    given = {
        "max_shard_lines": (plan.lines, options.get("max_shard_lines")),
        "max_shard_bytes": (plan.bytes, options.get("max_shard_bytes")),
        "max_attempts": (plan.max_attempts, options.get("max_attempts")),
        "replace_model": (plan.replace_model, options.get("replace_model")),
    }
    for name, (theirs, yours) in given.items():
        if name in options and yours != theirs:
            raise JobInputMismatchError(
                f"job {checked.job_id}'s batches were cut with {name}={theirs!r}; leave it out to recover the job"
            )
    newest = max(batches, key=lambda b: b.created_at or 0)
    metadata = checked.metadata
    if "metadata" not in options and newest.metadata is not None and hasattr(newest.metadata, "to_dict"):
        pairs = newest.metadata.to_dict()
        metadata = {k: str(v) for k, v in pairs.items() if k not in RESERVED_KEYS}
    window = checked.completion_window
    if "completion_window" not in options and isinstance(newest.completion_window, str):
        window = newest.completion_window
    return replace(
        checked,
        completion_window=window,
        metadata=metadata,
        replace_model=plan.replace_model,
        max_attempts=plan.max_attempts,
        limits=ShardLimits(plan.lines, plan.bytes),
    )


def tags(job_id: str, input_sha256: str, shard: ShardRow) -> dict[str, str]:
    """The metadata that ties a batch to its job, input, shard, attempt and the cut that made it."""
    found = {
        TAG_JOB: job_id,
        TAG_INPUT: input_sha256[:16],
        TAG_SHARD: str(shard.id),
        TAG_ATTEMPT: str(shard.attempt),
    }
    if shard.plan is not None:  # a shard cut by a version before plans were recorded has none
        found[TAG_PLAN] = shard.plan
    return found


def idempotency_key(job_id: str, shard_id: int) -> str:
    """The key of a shard's one batch: a shard is one attempt, so (shard, attempt) never gets two batches."""
    return f"{job_id}/{shard_id}"


def classify(result: BatchResult) -> Outcome:
    """``ok``; ``retry`` for what may succeed if sent again; ``failed`` for a permanent failure.

    Retried: a missing line, ``batch_expired``, a response status of 429 or 5xx, the vendor's overload code
    50505. Anything else that is not a success (a 400 for a bad request, say) will fail the same way again.
    """
    if result.ok:
        return "ok"
    if result.source == "missing":
        return "retry"
    error = result.error or {}
    body = result.body or {}
    inner = body.get("error")
    body_error: dict[str, Any] = inner if isinstance(inner, dict) else {}
    codes = {str(error.get("code")), str(body_error.get("code")), str(body.get("code"))}
    if "batch_expired" in codes or _OVERLOADED in codes:
        return "retry"
    status = result.status_code
    if status is not None and (status == 429 or status >= 500):
        return "retry"
    return "failed"


def _missing_line(custom_id: str, error: Mapping[str, str]) -> bytes:
    return json.dumps({"custom_id": custom_id, "response": None, "error": dict(error)}).encode()


def ingest(
    ledger: Ledger, shard: ShardRow, files: list[tuple[Source, Path]], *, max_attempts: int, cancelled: bool
) -> None:
    """Read an ended shard's downloaded result files into the ledger, in one transaction.

    Each request still in the shard gets its line (the first one, if a file repeats it) or is missing; a
    retryable outcome sends it back to wait for a new shard until ``max_attempts``, unless the job was
    cancelled. Token usage is added from every line that has it: those are billed, whatever comes after.
    """
    pending = ledger.requests_of(shard.id)
    usage = TokenUsage()
    final: list[tuple[str, str, bytes, int | None, int]] = []
    retry: list[tuple[str, bytes, int | None, int]] = []

    def decide(idx: int, attempts: int, result: BatchResult, raw: bytes) -> None:
        outcome = classify(result)
        if outcome == "retry" and (cancelled or attempts >= max_attempts):
            outcome = "failed"
        if outcome == "retry":
            retry.append((result.source, raw, result.line, idx))
        else:
            final.append((outcome, result.source, raw, result.line, idx))

    for source, path in files:
        with path.open("rb") as handle:
            for number, raw in enumerate(handle, 1):
                raw = raw.rstrip(b"\r\n")
                try:
                    result = parse_result_line(raw, number, source)
                except ResultLineError as error:
                    logger.warning("shard %s: skipped a bad result line: %s", shard.id, error)
                    continue
                if result is None or result.custom_id not in pending:
                    continue  # blank, repeated, or not a request of this shard
                idx, attempts = pending.pop(result.custom_id)
                usage.add(result)
                decide(idx, attempts, result, raw)
    for custom_id, (idx, attempts) in pending.items():
        why = _CANCELLED if cancelled else MISSING_RESULT
        missing = BatchResult(custom_id, None, dict(why), source="missing")
        decide(idx, attempts, missing, _missing_line(custom_id, why))
    with ledger.transaction() as db:
        db.executemany(
            "UPDATE requests SET state = 'final', outcome = ?, source = ?, result = ?, result_line = ? WHERE idx = ?",
            final,
        )
        db.executemany(
            "UPDATE requests SET shard = NULL, came_from = ?, source = ?, result = ?, result_line = ? WHERE idx = ?",
            ((shard.id, *row) for row in retry),
        )
        ledger.add_usage(db, ((m, u.requests, u.input_tokens, u.output_tokens) for m, u in usage.by_model.items()))
        db.execute("UPDATE shards SET state = 'ingested' WHERE id = ?", (shard.id,))


def _end_pending(db: sqlite3.Connection, where: str, args: tuple[object, ...], error: Mapping[str, str]) -> None:
    """End the pending requests that ``where`` selects as failed with ``error`` (no batch will answer them)."""
    rows = db.execute(f"SELECT idx, custom_id FROM requests WHERE state = 'pending' AND {where}", args).fetchall()
    db.executemany(
        "UPDATE requests SET state = 'final', outcome = 'failed', source = 'missing', result = ? WHERE idx = ?",
        ((_missing_line(custom_id, error), idx) for idx, custom_id in rows),
    )


def cancel_unsent(ledger: Ledger, shards: list[ShardRow]) -> None:
    """Drop shards that will never be sent, and end every request no batch will answer as cancelled."""
    with ledger.transaction() as db:
        for shard in shards:
            db.execute("UPDATE shards SET state = 'dropped' WHERE id = ?", (shard.id,))
            _end_pending(db, "shard = ?", (shard.id,), _CANCELLED)
        _end_pending(db, "shard IS NULL", (), _CANCELLED)


def refuse_shard(ledger: Ledger, shard: ShardRow, reason: str) -> None:
    """The server refused the shard's upload or batch (a 400): its requests end failed with the server's reason.

    Sending it again would be refused the same way; the job goes on with its other shards.
    """
    with ledger.transaction() as db:
        db.execute("UPDATE shards SET state = 'refused', status = 'refused' WHERE id = ?", (shard.id,))
        _end_pending(db, "shard = ?", (shard.id,), {"code": "batch_refused", "message": reason})


def result_of(row: RequestRow) -> BatchResult:
    """The request's result as the job gives it back: its deciding line, with the number of attempts."""
    if row.state != "final" or row.result is None:  # not decided yet (results asked before the job ended)
        pending = {"code": "pending", "message": "this request has no final outcome yet"}
        return BatchResult(row.custom_id, None, pending, source="missing", attempts=row.attempts)
    source: Source = "error" if row.source == "error" else "output"
    try:
        result = parse_result_line(row.result, row.result_line or 1, source)
    except ResultLineError:  # pragma: no cover - the ledger only holds lines that parsed
        result = None
    if result is None:  # pragma: no cover - as above
        return BatchResult(row.custom_id, None, dict(MISSING_RESULT), source="missing", attempts=row.attempts)
    return result._replace(
        source="missing" if row.source == "missing" else result.source, line=row.result_line, attempts=row.attempts
    )


@attrs.frozen
class JobStatus(JSONModel):
    """Where a job stands: its requests by outcome, its batches by status, attempts, tokens and cost.

    ``cost`` is in yuan at the vendor's batch prices (:class:`~siliconflow_batch.pricing.PriceTable`), None when
    a model used has no known price.
    """

    job_id: str
    total: int
    succeeded: int
    failed: int
    pending: int
    batches: Mapping[str, int] = attrs.field(factory=dict)
    """How many of the job's batches are in each status (``unsent``: not created yet)."""
    attempts: Mapping[int, int] = attrs.field(factory=dict)
    """How many requests took each number of attempts (0: not sent yet)."""
    usage: Mapping[str, ModelUsage] = attrs.field(factory=dict)
    cost: Decimal | None = None
    cancelled: bool = False
    running_done: int = 0
    """Requests that running batches report done (their ``request_counts``), whose results are not read yet."""

    @property
    def done(self) -> bool:
        """True once every request has a final outcome."""
        return self.pending == 0

    @property
    def progress(self) -> int:
        """Requests done: those with a final outcome, and those done inside batches still running."""
        return min(self.succeeded + self.failed + self.running_done, self.total)

    @property
    def resubmitted(self) -> int:
        """How many requests were sent more than once."""
        return sum(count for attempts, count in self.attempts.items() if attempts > 1)

    @property
    def input_tokens(self) -> int:
        """Input (prompt) tokens over every model."""
        return sum(u.input_tokens for u in self.usage.values())

    @property
    def output_tokens(self) -> int:
        """Output (completion) tokens over every model."""
        return sum(u.output_tokens for u in self.usage.values())

    def to_dict(self) -> dict[str, Any]:
        """The status as JSON-ready data (``cost`` as a decimal string)."""
        return {
            "job_id": self.job_id,
            "done": self.done,
            "cancelled": self.cancelled,
            "requests": {
                "total": self.total,
                "succeeded": self.succeeded,
                "failed": self.failed,
                "pending": self.pending,
            },
            "batches": dict(self.batches),
            "attempts": {str(k): v for k, v in self.attempts.items()},
            "resubmitted": self.resubmitted,
            "running_done": self.running_done,
            "usage": {
                model: {"requests": u.requests, "input_tokens": u.input_tokens, "output_tokens": u.output_tokens}
                for model, u in self.usage.items()
            },
            "cost": None if self.cost is None else str(self.cost),
        }

    def __str__(self) -> str:
        batches = ", ".join(f"{count} {status}" for status, count in self.batches.items()) or "none yet"
        cost = "unknown" if self.cost is None else f"{self.cost:.4f} yuan"
        return (
            f"job {self.job_id}: {self.succeeded + self.failed}/{self.total} done "
            f"({self.succeeded} ok, {self.failed} failed, {self.pending} pending); batches: {batches}; "
            f"resubmitted {self.resubmitted}; tokens {self.input_tokens} in / {self.output_tokens} out; cost {cost}"
        )


def job_status(
    ledger: Ledger, job_id: str, prices: PriceTable | None, seen: Mapping[int, Batch] | None = None
) -> JobStatus:
    """Read the job's status from its ledger; ``seen`` holds the server's view of running shards' batches."""
    counts = ledger.counts()
    batches = ledger.batches_by_status()
    running_done = ledger.running_done()
    if seen:
        batches, running_done = Counter(), 0
        for shard in ledger.shards():
            if shard.state == "dropped":
                continue
            batch = seen.get(shard.id)
            batches[str(batch.status) if batch is not None else shard.status or "unsent"] += 1
            if batch is not None and not batch.is_terminal:
                running_done += batch.counts.completed + batch.counts.failed
            elif shard.state == "created":
                running_done += shard.done
        batches = dict(sorted(batches.items()))
    usage = TokenUsage()
    for model, requests, input_tokens, output_tokens in ledger.usage():
        usage.by_model[model] = ModelUsage(requests, input_tokens, output_tokens)
    return JobStatus(
        job_id=job_id,
        total=sum(counts.values()),
        succeeded=counts.get("ok", 0),
        failed=counts.get("failed", 0),
        pending=counts.get("pending", 0),
        batches=batches,
        attempts=ledger.attempts(),
        usage=dict(usage.by_model),
        cost=usage.cost(prices) if prices is not None else None,
        cancelled=bool(ledger.meta("cancelled")),
        running_done=running_done,
    )
