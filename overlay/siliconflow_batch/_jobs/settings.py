"""A job's settings, checked once, and what ties its batches to it: tags, idempotency keys and the cut's plan."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict

from .._batch_logic import metadata_value
from .._defaults import DEFAULT_COMPLETION_WINDOW, DEFAULT_MAX_ATTEMPTS
from .._exceptions import InputValidationError, JobError, JobInputMismatchError
from .._problem import Problem
from ..structured import Schema
from ..validation import CHAT_COMPLETIONS, MAX_METADATA_PAIRS, MAX_METADATA_VALUE, validate_create
from .input import ShardLimits
from .ledger import ShardRow
from .tags import RESERVED_KEYS, RESERVED_METADATA, TAG_ATTEMPT, TAG_INPUT, TAG_JOB, TAG_PLAN, TAG_SHARD

if TYPE_CHECKING:
    from ..types import Batch

__all__ = [
    "RESERVED_METADATA",
    "TAG_ATTEMPT",
    "TAG_INPUT",
    "TAG_JOB",
    "TAG_PLAN",
    "TAG_SHARD",
    "JobOptions",
    "JobSettings",
    "Plan",
    "checked_max_cost",
    "idempotency_key",
    "recovered_settings",
    "tags",
]


PLAN_VERSION = "1"


class JobOptions(TypedDict, total=False):
    """A job's settings, as ``jobs.submit``, ``jobs.run`` and ``jobs.recover`` take them (all optional).

    ``completion_window`` ("24h"; 24h to 336h), ``replace_model`` (run every request on this model; without it,
    one model per shard), ``metadata`` (your pairs on every batch: at most 10, the job adds 6), ``max_attempts``
    (3: how many times a request may be sent), ``max_shard_lines`` (the vendor's 5,000, or fewer) and
    ``max_shard_bytes`` (1 GB less 1 MiB, or fewer), ``max_cost`` (yuan, a Decimal, str or float; None: no
    cap): no batch is created whose upper bound would take the job's committed cost past it. A resumed job goes
    on with the settings it began with, but for ``max_cost``: given again, the new cap applies (a higher one sends
    what the old one held back).

    ``schema`` (a JSON Schema dict or a pydantic model class; see :mod:`siliconflow_batch.structured`): every
    reply is parsed and validated against it, and the job's results come with ``parsed`` or ``parse_error``; a
    request line the job sends is left as it is, so ask for JSON in it (``requests.from_rows(..., schema=...)``
    adds ``response_format`` and the schema to every request, and the job takes its schema from the rows).
    A successful line whose reply does not parse, fit or was cut at ``max_tokens`` ends with outcome
    ``invalid`` (``JobStatus.invalid``); with ``resubmit_invalid=True`` it is sent again, within
    ``max_attempts`` (``JobStatus.resubmitted_invalid`` counts those sends).
    """

    completion_window: str
    replace_model: str | None
    metadata: Mapping[str, str] | None
    max_attempts: int
    max_shard_lines: int
    max_shard_bytes: int
    max_cost: Decimal | str | float | None
    schema: Mapping[str, Any] | type | Schema | None
    resubmit_invalid: bool


@dataclass(frozen=True)
class JobSettings:
    """What a job was started with; kept in its ledger, so that a resumed job goes on as it began."""

    job_id: str
    completion_window: str
    replace_model: str | None
    metadata: dict[str, str]
    max_attempts: int
    limits: ShardLimits
    max_cost: str | None = None
    """The job's cap in yuan, a decimal string (None: no cap)."""
    schema: dict[str, Any] | None = None
    """The replies' schema as ``Schema.to_json()`` keeps it (the JSON Schema and the model's import path)."""
    resubmit_invalid: bool = False
    """Whether a line whose reply does not fit ``schema`` is sent again (within ``max_attempts``)."""

    @property
    def reply_schema(self) -> Schema | None:
        """The replies' schema, its pydantic model imported again when it can be (None: no schema)."""
        return None if self.schema is None else Schema.from_json(self.schema)

    @property
    def invalid_key(self) -> str | None:
        """The schema's fingerprint when invalid replies are sent again (it decides cuts: the plans carry it)."""
        if not self.resubmit_invalid or self.schema is None:
            return None
        return Schema(self.schema["json_schema"]).fingerprint

    @property
    def cap(self) -> Decimal | None:
        """The cap as a Decimal (None: no cap)."""
        return None if self.max_cost is None else Decimal(self.max_cost)

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
        window = options.get("completion_window", DEFAULT_COMPLETION_WINDOW)
        replace_model = options.get("replace_model")
        metadata = options.get("metadata")
        max_attempts = options.get("max_attempts", DEFAULT_MAX_ATTEMPTS)
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
        taken = sorted(set(metadata) & RESERVED_KEYS) if metadata is not None else []
        if taken:
            problems.append(
                Problem(
                    "metadata",
                    f"{', '.join(taken)} {'is a key' if len(taken) == 1 else 'are keys'} of the job's own "
                    f"(its batches carry {', '.join(sorted(RESERVED_KEYS))})",
                )
            )
        if not job_id.strip() or len(job_id) > 200:
            problems.append(Problem("job_id", f"must be 1 to 200 characters, got {len(job_id)}"))
        if isinstance(max_attempts, bool) or not isinstance(max_attempts, int) or max_attempts < 1:
            problems.append(Problem("max_attempts", f"must be a whole number >= 1, got {max_attempts!r}"))
        problems += limits.problems()
        max_cost, problem = checked_max_cost(options.get("max_cost"))
        if problem is not None:
            problems.append(problem)
        schema: Schema | None = None
        if options.get("schema") is not None:
            try:
                schema = Schema.of(options["schema"])
            except InputValidationError as error:
                problems += error.problems
        resubmit = options.get("resubmit_invalid", False)
        if not isinstance(resubmit, bool):
            problems.append(Problem("resubmit_invalid", f"must be True or False, got {resubmit!r}"))
        elif resubmit and schema is None and "schema" not in [p.field for p in problems]:
            problems.append(Problem("resubmit_invalid", "needs a schema (schema=...) to tell an invalid reply"))
        if problems:
            raise InputValidationError("nothing was sent", problems)
        return cls(
            job_id, window, replace_model, dict(metadata or {}), max_attempts, limits, max_cost,
            schema.to_json() if schema is not None else None, bool(resubmit),
        )  # fmt: skip


def checked_max_cost(value: object) -> tuple[str | None, Problem | None]:
    """``max_cost`` as the ledger keeps it (a decimal string, or None for no cap), or the problem with it."""
    if value is None:
        return None, None
    bad = Problem("max_cost", f"must be a number of yuan >= 0 (a Decimal, str or float), got {value!r}")
    if isinstance(value, bool) or not isinstance(value, Decimal | str | int | float):
        return None, bad
    try:
        amount = Decimal(str(value).strip()) if not isinstance(value, Decimal) else value
    except InvalidOperation:
        return None, bad
    if not amount.is_finite() or amount < 0:
        return None, bad
    return str(amount), None


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
    invalid: str | None = None
    """The schema's fingerprint when the job sends invalid replies again (``resubmit_invalid``); else None."""

    def encode(self) -> str:
        """The metadata value: ``1;l=LINES;b=BYTES;a=ATTEMPTS;f=FIRST;p=PARENTS;r=MODEL`` (r last, any text).

        A job that sends invalid replies again adds ``;v=SCHEMA`` (its schema's fingerprint) before ``r``.
        """
        invalid = f";v={self.invalid}" if self.invalid else ""
        return (
            f"{PLAN_VERSION};l={self.lines};b={self.bytes};a={self.max_attempts};f={self.first};"
            f"p={_ranges(self.parents)}{invalid};r={self.replace_model or ''}"
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
                _unranges(fields["p"]), fields.get("v") or None,
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
        return cls(
            limits.lines, limits.bytes, settings.max_attempts, settings.replace_model, first, parents,
            settings.invalid_key,
        )  # fmt: skip


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
    if plan.invalid != checked.invalid_key:
        raise JobInputMismatchError(
            f"job {checked.job_id}'s batches were cut "
            + (f"sending invalid replies again under schema {plan.invalid}: give the same schema= and "
               "resubmit_invalid=True to recover the job" if plan.invalid
               else "without resubmit_invalid: leave it out to recover the job")
        )  # fmt: skip
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
