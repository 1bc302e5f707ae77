"""The job commands of ``siliconflow-batch``: ``run`` a workload of any size, and ``job status|wait|results|cancel``.

A job lives in its directory, so every command can be killed and
the same command run again: ``run`` resumes the job, ``job wait`` goes on following it. Both run the job on the
async client, so that a job's shards are sent and downloaded ``--max-concurrency`` at once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shlex
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .. import _http
from .._atomic import check_destination
from .._defaults import (
    DEFAULT_COMPLETION_WINDOW,
    DEFAULT_JOB_MAX_POLL_INTERVAL,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_CONCURRENCY,
)
from .._exceptions import InputValidationError, InsufficientBalanceError, JobError, PaymentRequiredError
from .._jobs.tags import RESERVED_METADATA
from .._problem import Problem
from .._sync.client import SiliconFlow
from ..validation import MAX_LINES, MAX_METADATA_PAIRS
from ._args import (
    AddCommand,
    async_client_for,
    bounded_int,
    client_for,
    create_args,
    creating,
    fail_on_errors,
    options_given,
    waiting,
    yuan,
)
from ._output import FAILED, OK, USAGE, Output, bar, fit
from .batches import print_results

if TYPE_CHECKING:  # the job machinery loads when a job command runs, not with every command
    from .._async.client import AsyncSiliconFlow
    from .._jobs._async.job import AsyncJob
    from .._jobs._sync.job import Job
    from .._jobs.input import JobInput
    from .._jobs.status import JobStatus
    from ..requests import RequestRows
    from ..structured import Schema

__all__ = ["cmd_job", "cmd_run", "register"]


def _count(number: int) -> str:
    for size, unit in ((10**9, "G"), (10**6, "M"), (10**3, "k")):
        if number >= size:
            return f"{number / size:.1f}{unit}"
    return str(number)


class _Progress:
    """The job's progress line: requests done / total, batches per status, resubmissions, tokens, elapsed, ETA.

    The clock shows the job's elapsed time, ``ran_before`` (seconds since it began, before this process) included;
    the ETA is from this process's pace alone.
    """

    def __init__(self, out: Output, ran_before: float = 0.0) -> None:
        self.out = out
        self.started = _http.monotonic()  # the client's clock: a test's virtual one moves it
        self.ran_before = max(0.0, ran_before)
        self._first_done: int | None = None

    def line(self, status: JobStatus, width: int | None = None) -> str:
        """The line, fitted to ``width``: done / total, the batches and the ETA stay; the rest goes first."""
        done = status.progress  # inside running batches too: a 24-hour window does not read 0 % throughout
        if self._first_done is None:
            self._first_done = done
        batches = ", ".join(f"{count} {name}" for name, count in status.batches.items()) or "none yet"
        elapsed = _http.monotonic() - self.started
        gained = done - self._first_done
        eta = ""
        if gained > 0 and done < status.total:
            left = elapsed * (status.total - done) / gained
            eta = f"  ETA {int(left // 60)}:{int(left % 60):02d}"
        parts = [
            (2, bar(done, status.total, 20)),
            (0, f"{done}/{status.total} requests ({status.failed} failed)"),
            (0, f"batches: {batches}"),
            (4, f"resubmitted {status.resubmitted}"),
            (3, f"tokens {_count(status.input_tokens)} in/{_count(status.output_tokens)} out"),
            (1, _clock(elapsed + self.ran_before)),
        ]
        if eta:
            parts.append((0, eta.strip()))
        return fit(parts, width)

    def show(self, status: JobStatus) -> None:
        if self.out.tty:
            self.out.live(lambda width: self.line(status, width))
        else:
            print(self.line(status), file=self.out.err, flush=True)


def _clock(seconds: float) -> str:
    """Elapsed time as the live line shows it: ``M:SS``, minutes going past 59."""
    return f"{int(seconds // 60)}:{int(seconds % 60):02d}"


async def _follow(job: AsyncJob, args: argparse.Namespace, out: Output) -> JobStatus:
    began = job.started_at  # kept in the job directory: a resumed run's clock goes on from the job's start
    progress = _Progress(out, ran_before=0.0 if began is None else _http.wall_time() - began)
    try:
        return await job.wait(
            on_progress=progress.show,
            poll_interval=args.poll_interval,
            max_poll_interval=args.max_poll_interval or DEFAULT_JOB_MAX_POLL_INTERVAL,
            timeout=args.timeout,
            max_outage=args.max_outage,
            max_concurrency=args.max_concurrency,
        )
    except InsufficientBalanceError as error:  # paused: say how to go on, in the command's own words
        raise _paused(args, error) from error
    finally:
        out.close_bar()


def _summary(status: JobStatus, output: Path | None = None) -> str:
    from .money import money_rows

    rows = [
        ("job", status.job_id),
        ("requests", f"{status.total}: {status.succeeded} succeeded, {status.failed} failed, {status.pending} pending"),
        ("batches", ", ".join(f"{count} {name}" for name, count in status.batches.items()) or "-"),
        ("attempts", ", ".join(f"{count} x {n}" for n, count in status.attempts.items())),
        ("resubmitted", str(status.resubmitted)),
    ]
    rows += [
        ("tokens", f"{model or '(unknown model)'}: {u.input_tokens} in, {u.output_tokens} out")
        for model, u in status.usage.items()
    ]
    rows.append(("cost", "unknown (a model has no price)" if status.cost is None else f"{status.cost:.4f} yuan"))
    rows += money_rows(status)
    if status.cancelled:
        rows.append(("cancelled", "yes"))
    if output is not None:
        rows.append(("results", str(output)))
    return "\n".join(f"{name:<12} {value}" for name, value in rows)


def _show(out: Output, status: JobStatus, output: Path | None = None) -> int:
    data: dict[str, Any] = status.to_dict()
    if output is not None:
        data["results"] = str(output)
    out.data(data, lambda: _summary(status, output))
    return FAILED if status.cancelled else OK


def _resume_command(args: argparse.Namespace) -> str:
    """The command that resumes this run, with every option given.

    It names no key (that stays in the environment or a flag you give).
    """
    words = ["siliconflow-batch", "run", args.input, "--job-dir", args.job_dir]
    if args.base_url:
        words += ["--base-url", args.base_url]
    if args.output:
        words += ["--output", args.output]
    return shlex.join(words + options_given(args, leave_out=["job_dir", "base_url", "output"]))


def _paused(args: argparse.Namespace, error: InsufficientBalanceError) -> InsufficientBalanceError:
    return InsufficientBalanceError(f"{error}; resume with: {args.resume_command}")


def cmd_run(args: argparse.Namespace, out: Output) -> int:
    """``run INPUT --job-dir DIR``: submit (or resume) the job and follow it to the end."""
    from .money import PricesError, cap_option, dry_run, held_note, prices

    output = Path(args.output) if args.output else None
    if output is not None:
        check_destination(output, what="--output")
    job_dir = Path(args.job_dir)
    if job_dir.exists() and not job_dir.is_dir():
        problem = Problem("--job-dir", f"{job_dir} is a file; give a directory (a new one, or a job's)")
        raise InputValidationError("nothing was sent", [problem])
    create = create_args(args)
    source, rows = _source(args)
    args.resume_command = _resume_command(args)  # for the hint if interrupted
    try:
        table = prices(args)  # before anything is sent: a bad price file is a mistake of the command
    except PricesError as error:
        return out.fail(str(error), USAGE)
    with client_for(args) as client:
        if args.dry_run:
            return dry_run(client, args, out, source, table)
        _refuse_other_settings(client, args, create)
    args.job_started = False  # until submit returns, no batch may exist yet
    submit: dict[str, Any] = {
        "completion_window": create["completion_window"],
        "replace_model": create["replace_model"],
        "metadata": create["metadata"],
        "max_attempts": args.max_attempts,
        "max_shard_lines": args.shard_lines,
        "require_balance": args.require_balance,
        "max_outage": args.max_outage,
        "max_concurrency": args.max_concurrency,
        "prices": table,
        "resubmit_invalid": args.resubmit_invalid,
        **cap_option(args),
        **_schema_option(args),
    }
    status = asyncio.run(_submit_and_follow(args, out, source, submit))
    if args.detach:
        return _show(out, status)
    if output is not None:  # the job has ended: its results are read from its directory, locally
        with client_for(args) as client, _open(client, args.job_dir) as job:
            count = _write(job, output, rows)
        out.note(f"wrote {count} results to {output}")
    held = held_note(status)
    if held is not None:
        out.note(held)
    return out.failed_requests(status.failed + status.budget, args, _show(out, status, output))


async def _submit_and_follow(
    args: argparse.Namespace, out: Output, source: JobInput, submit: dict[str, Any]
) -> JobStatus:
    """Submit (or resume) the job and, unless ``--detach``, follow it to the end; its status."""
    from .money import started

    async with async_client_for(args) as client:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            try:
                job = await client.jobs.submit(source, job_dir=args.job_dir, **submit)
            except InsufficientBalanceError as error:
                if not isinstance(error.__cause__, PaymentRequiredError):
                    raise  # refused before the job began (require_balance): nothing to resume
                raise _paused(args, error) from error
            args.job_started = True
            for warning in caught:
                out.note(f"warning: {warning.message}")
            out.note(started(await job.status(refresh=False)))
            async with job:
                if args.detach:
                    status = await job.status()
                    follow = f"siliconflow-batch job wait {shlex.quote(args.job_dir)}"
                    out.note(f"job {job.id} submitted; follow it with: {follow}")
                    return status
                return await _follow(job, args, out)


async def _wait_for(args: argparse.Namespace, out: Output) -> JobStatus:
    """``job wait``: follow the job in DIR to the end."""
    async with async_client_for(args) as client:
        job = await _open_async(client, args.job_dir)
        async with job:
            return await _follow(job, args, out)


def _source(args: argparse.Namespace) -> tuple[JobInput, RequestRows | None]:
    """The job's input: the JSONL file, or with ``--prompt`` one request per row of the table (and the rows)."""
    if args.prompt is None:
        for flag, value in (("--system", args.system), ("--id-column", args.id_column)):
            if value is not None:
                raise InputValidationError("nothing was sent", [Problem(flag, "is for a table: give --prompt too")])
        return args.input, None
    if args.model is None:
        raise InputValidationError("nothing was sent", [Problem("--model", "is needed with --prompt")])
    from ..requests import from_rows

    schema = _schema(args.schema) if args.schema is not None else None
    rows = from_rows(
        args.input, prompt=args.prompt, model=args.model, system=args.system, id_column=args.id_column, schema=schema
    )
    return rows, rows


def _schema(path: str) -> Schema:
    """The JSON Schema in the file ``--schema`` names, checked; a bad one is one problem naming the flag."""
    from ..structured import Schema

    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputValidationError(
            "nothing was sent", [Problem("--schema", f"{path} cannot be read: {exc.strerror or exc}")]
        ) from None
    except ValueError as exc:
        raise InputValidationError("nothing was sent", [Problem("--schema", f"{path} is not JSON ({exc})")]) from None
    try:
        return Schema.of(data)
    except InputValidationError as error:
        problem = error.problems[0]
        raise InputValidationError(
            "nothing was sent", [Problem("--schema" + problem.field.removeprefix("schema"), problem.message)]
        ) from None


def _schema_option(args: argparse.Namespace) -> dict[str, Any]:
    """``schema=`` for a JSONL input given ``--schema`` (a table's rows carry their own)."""
    if args.schema is None or args.prompt is not None:
        return {}
    return {"schema": _schema(args.schema)}


def _write(job: Job, output: Path, rows: RequestRows | None, *, partial: bool = False) -> int:
    """Write the results to ``output``: a table for .parquet/.pq/.csv (beside ``rows``), else JSONL."""
    from ..tables import TABLE_SUFFIXES

    if output.suffix.lower() in TABLE_SUFFIXES:
        return job.write_table(output, rows=rows, partial=partial)
    return job.write_results(output, partial=partial)


def _refuse_other_settings(client: SiliconFlow, args: argparse.Namespace, create: dict[str, Any]) -> None:
    """A resumed job goes on with the settings it began with: a setting given now that differs is refused.

    (The poll interval, timeout and outage are this process's own, and apply.)
    """
    from .._jobs.ledger import LEDGER_NAME

    if not (Path(args.job_dir) / LEDGER_NAME).is_file():
        return
    try:
        job = client.jobs.open(args.job_dir)
    except JobError:
        return
    with job:
        try:
            known = job.options
        except (KeyError, TypeError, ValueError):  # a job whose input is not yet read has no settings
            return
    given = [
        ("--window", args.window != DEFAULT_COMPLETION_WINDOW, args.window, known.get("completion_window")),
        ("--model", args.model is not None, args.model, known.get("replace_model")),
        ("--metadata", args.metadata is not None, create["metadata"] or {}, known.get("metadata")),
        ("--max-attempts", args.max_attempts != DEFAULT_MAX_ATTEMPTS, args.max_attempts, known.get("max_attempts")),
        ("--shard-lines", args.shard_lines != MAX_LINES, args.shard_lines, known.get("max_shard_lines")),
    ]
    problems = [
        Problem(
            flag, f"is {now!r} but the job in {args.job_dir} began with {then!r}: give the same, or another --job-dir"
        )
        for flag, was_given, now, then in given
        if was_given and now != then
    ]
    if problems:
        raise InputValidationError("the job goes on with the settings it began with", problems)


def cmd_job(args: argparse.Namespace, out: Output) -> int:
    """``job status|wait|results|cancel DIR``."""
    output = Path(args.output) if getattr(args, "output", None) else None
    if output is not None:
        check_destination(output, what="--output")
    given = options_given(args, leave_out=["output", "partial", "cached"]) if args.action == "wait" else []
    args.resume_command = shlex.join(["siliconflow-batch", "job", "wait", args.job_dir, *given])
    if args.action == "wait":
        status = asyncio.run(_wait_for(args, out))
        return out.failed_requests(status.failed, args, _show(out, status))
    with client_for(args) as client, _open(client, args.job_dir) as job:
        if args.action == "status":
            return _show(out, job.status(refresh=not args.cached))
        if args.action == "cancel":
            _show(out, job.cancel())
            return OK  # the cancel took effect; a process running the job ends it as cancelled

        if output is not None:
            count = _write(job, output, None, partial=args.partial)
            out.data({"results": count, "path": str(output)}, lambda: f"wrote {count} results to {output}")
            return out.failed_requests(job.status(refresh=False).failed, args, OK)
        return out.failed_requests(print_results(job.results(partial=args.partial), out), args, OK)


def _open(client: SiliconFlow, job_dir: str) -> Job:
    """The job in DIR; a directory with no job is a mistake in the command (exit 2), not a failure."""
    try:
        return client.jobs.open(job_dir)
    except JobError as error:
        if type(error) is not JobError:
            raise
        raise _no_job(job_dir) from None


async def _open_async(client: AsyncSiliconFlow, job_dir: str) -> AsyncJob:
    """:func:`_open` on the async client."""
    try:
        return await client.jobs.open(job_dir)
    except JobError as error:
        if type(error) is not JobError:
            raise
        raise _no_job(job_dir) from None


def _no_job(job_dir: str) -> InputValidationError:
    """A directory with no job, as the command's mistake (exit 2)."""
    return InputValidationError("no job", [Problem("DIR", f"{job_dir} holds no job (run one there first)")])


def register(add: AddCommand) -> None:
    """Add ``run`` and ``job`` to the parser (``add`` as ``_main.build_parser`` gives it)."""
    sub = add("run", cmd_run, "run a workload of any size as a job (shards, resubmission, merged results)")
    sub.add_argument(
        "input", metavar="INPUT", help="the requests, a JSONL file of any size; with --prompt, a table (CSV, Parquet)"
    )
    sub.add_argument("--job-dir", required=True, help="where the job keeps its state; the same command resumes it")
    sub.add_argument(
        "--output",
        metavar="FILE",
        help="write one result per request here, in input order: JSONL, or a table by the name (.parquet, .csv)",
    )
    sub.add_argument(
        "--prompt",
        metavar="TEMPLATE",
        help="INPUT is a table (.csv, .jsonl, .parquet): one request per row, this text with its {column}s filled in",
    )
    sub.add_argument("--system", metavar="TEXT", help="with --prompt: a system message before each prompt")
    sub.add_argument("--id-column", metavar="COLUMN", help="with --prompt: the column of each row's custom_id")
    sub.add_argument(
        "--schema",
        metavar="FILE",
        help="a JSON Schema every reply must fit: requests ask for JSON (with --prompt), results are parsed",
    )
    sub.add_argument(
        "--resubmit-invalid", action="store_true", help="with --schema: send a reply that does not fit again"
    )
    yours = MAX_METADATA_PAIRS - RESERVED_METADATA
    creating(sub, pairs=f"at most {yours}: the job's batches carry {RESERVED_METADATA} of their own")
    sub.add_argument(
        "--max-attempts",
        type=bounded_int(1),
        default=DEFAULT_MAX_ATTEMPTS,
        help=f"send a request at most this many times (default {DEFAULT_MAX_ATTEMPTS})",
    )
    sub.add_argument(
        "--shard-lines",
        type=bounded_int(1, MAX_LINES),
        default=MAX_LINES,
        help=f"requests per batch, at most {MAX_LINES} (the default)",
    )
    sub.add_argument("--detach", action="store_true", help="return once every batch is created")
    sub.add_argument(
        "--require-balance", action="store_true", help="refuse to start when the recharged balance is zero"
    )
    sub.add_argument(
        "--dry-run", action="store_true", help="send nothing (but the balance look-up): print what the job would cost"
    )
    sub.add_argument(
        "--max-cost", type=yuan, metavar="YUAN", help="create no batch that could take the job's cost past this"
    )
    sub.add_argument("--prices", metavar="FILE", help="batch prices (default: $SILICONFLOW_BATCH_PRICES, packaged)")
    sub.add_argument(
        "--calibrate-from", action="append", metavar="DIR", help="--dry-run: calibrate from the lines this job ran"
    )
    fail_on_errors(sub)
    waiting(sub)
    _concurrency(sub)

    sub = add("job", cmd_job, "a job's status, or wait for it, print its results, or cancel it")
    sub.add_argument(
        "action",
        choices=["status", "wait", "results", "cancel"],
        help="status: show it; wait: follow it to the end; results: print or save them; cancel: stop it",
    )
    sub.add_argument("job_dir", metavar="DIR", help="the job's directory (run's --job-dir)")
    sub.add_argument(
        "--output", metavar="FILE", help="results: write them to FILE, as JSONL or a table by the name (.parquet, .csv)"
    )
    sub.add_argument("--partial", action="store_true", help="results: allow those so far of a job still running")
    sub.add_argument(
        "--cached", action="store_true", help="status: read the job directory only, without asking the server"
    )
    fail_on_errors(sub, "wait, results: ")
    waiting(sub)
    _concurrency(sub, "wait: ")


def _concurrency(sub: argparse.ArgumentParser, when: str = "") -> None:
    """``--max-concurrency``: a job's shards sent, and downloaded, at once."""
    sub.add_argument(
        "--max-concurrency",
        type=bounded_int(1),
        default=DEFAULT_MAX_CONCURRENCY,
        metavar="N",
        help=f"{when}shards uploaded-and-created, and downloaded, at once (default {DEFAULT_MAX_CONCURRENCY})",
    )
