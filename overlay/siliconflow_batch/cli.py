"""The ``siliconflow-batch`` command: validate, upload, submit, wait, fetch results, run jobs and the emulator.

Exit codes: 0 done; 1 an API error, a batch that ended failed, expired or cancelled, a cancelled job,
results asked of a batch or job still running, or with --fail-on-errors a request that ended failed; 2 bad
usage or input (with the validation report), a job directory given another input or holding no job; 130
interrupted, 143 terminated (the batches keep running on the server; a job resumes); 141 stdout closed.
Options such as --base-url go before or after the command.
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shlex
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any, NoReturn, TextIO

from ._atomic import atomic_write, check_destination
from ._batch_logic import create_key, keyed, name_the_key
from ._defaults import (
    DEFAULT_COMPLETION_WINDOW,
    DEFAULT_MAX_ATTEMPTS,
    DEFAULT_MAX_OUTAGE,
    DEFAULT_POLL_INTERVAL,
)
from ._exceptions import (
    BatchNotFinishedError,
    InputValidationError,
    JobInputMismatchError,
    NotFoundError,
    SiliconFlowError,
    shorten,
)
from ._jobs.settings import RESERVED_METADATA, checked_max_cost
from ._problem import Problem
from ._sync.client import SiliconFlow
from ._version import package_version
from .types import Batch, BatchResult, FileObject, timestamp_datetime
from .validation import (
    CHAT_COMPLETIONS,
    MAX_LINES,
    MAX_METADATA_PAIRS,
    MAX_WINDOW_HOURS,
    MIN_WINDOW_HOURS,
    ValidationReport,
    validate_create,
    validate_requests,
)

__all__ = ["main"]

OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130
TERMINATED = 128 + 15  # SIGTERM: as interrupted, the batches keep running and the message says how to resume
CLOSED_PIPE = 128 + 13  # as a command killed by SIGPIPE: the reader of stdout went away (say `| head`)


class _Output:
    """Where and how the command prints: human text or JSON, progress bar or one line per change."""

    def __init__(self, as_json: bool, stream: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.as_json = as_json
        self.stream = stream
        self.err = err
        self.tty = err.isatty()
        self._bar_open = False
        self._lock = threading.Lock()
        self._shown: Callable[[int], str] | None = None
        self._drawn = 0  # the length of the live line drawn last, to blank what a shorter one leaves
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    def data(self, value: Any, human: Callable[[], str]) -> None:
        """Print ``value`` as JSON, or ``human()`` as text."""
        self.close_bar()
        print(json.dumps(value, indent=2, default=str) if self.as_json else human(), file=self.stream)

    def note(self, text: str) -> None:
        """A message for the person at the terminal (stderr, so stdout stays parseable)."""
        self.close_bar()
        print(text, file=self.err)

    def fail(self, message: str, code: int, problems: Sequence[Problem] = ()) -> int:
        """An error that ends the command: ``error: ...``, or with --json one JSON object on one line of stderr."""
        if not self.as_json:
            self.note(f"error: {message}")
            return code
        self.close_bar()
        value: dict[str, Any] = {"error": message, "exit_code": code}
        if problems:
            value["problems"] = [{"line": p.line, "field": p.field, "message": p.message} for p in problems]
        print(json.dumps(value, ensure_ascii=False), file=self.err)
        return code

    def failed_requests(self, failed: int, args: argparse.Namespace, code: int) -> int:
        """The exit code once requests ended: ``code``, or 1 with --fail-on-errors when any failed."""
        if code != OK or not getattr(args, "fail_on_errors", False) or failed == 0:
            return code
        return self.fail(f"{_plural(failed, 'request')} ended failed (--fail-on-errors)", FAILED)

    def progress(self, batch: Batch, started: float) -> None:
        """Show the batch's progress: a live bar on a terminal (its clock ticks), a line per change otherwise."""
        if not self.tty:
            total, completed, failed = batch.counts
            counts = f"{completed}/{total} done, {failed} failed" if total else "counting requests"
            print(f"[{_clock(started)}] {batch.id} {batch.status}: {counts}", file=self.err, flush=True)
            return

        def line(width: int) -> str:
            total, completed, failed = batch.counts
            counts = f"{completed}/{total} done, {failed} failed" if total else "counting requests"
            parts = [(2, _bar(completed + failed, total)), (0, f"{batch.status:<11} {counts}"), (1, _clock(started))]
            return fit(parts, width)

        self.live(line)

    def width(self) -> int:
        """The columns the live line may take: the terminal's less one, so that it never wraps."""
        try:
            columns = os.get_terminal_size(self.err.fileno()).columns
        except (AttributeError, OSError, ValueError):  # not a real terminal (a test's stream): $COLUMNS, or 80
            columns = shutil.get_terminal_size().columns
        return max(columns - 1, 20)

    def live(self, line: Callable[[int], str]) -> None:
        """Show ``line(width)`` as the live line on a terminal, redrawn each second so that its clock moves."""
        with self._lock:
            self._shown = line
            self._draw()
        if self._ticker is None:
            self._stop.clear()
            self._ticker = threading.Thread(target=self._tick_forever, name="progress-clock", daemon=True)
            self._ticker.start()

    def tick(self) -> None:
        """Redraw the live bar with the current time, so the clock moves while the status does not."""
        with self._lock:
            if self._bar_open and self._shown is not None:
                self._draw()

    def _tick_forever(self) -> None:
        while not self._stop.wait(1.0):
            self.tick()

    def _draw(self) -> None:
        assert self._shown is not None
        width = self.width()
        text = self._shown(width)[:width]
        blank = " " * max(0, min(self._drawn, width) - len(text))
        print(f"\r{text}{blank}", end="", file=self.err, flush=True)
        self._drawn = len(text)
        self._bar_open = True

    def close_bar(self) -> None:
        """End a live progress line (and its clock) before printing anything else."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        with self._lock:
            if self._bar_open:
                print(file=self.err)
                self._bar_open = False
                self._drawn = 0


def fit(parts: Sequence[tuple[int, str]], width: int | None) -> str:
    """Join ``parts`` (each with its rank: 0 always shown, the highest dropped first) to fit in ``width``.

    What still does not fit is cut, ending in an ellipsis: a live line shortens, and never wraps.
    """
    kept = list(parts)
    while width is not None and len("  ".join(t for _, t in kept)) > width and any(r for r, _ in kept):
        drop = max(range(len(kept)), key=lambda i: kept[i][0])
        del kept[drop]
    text = "  ".join(t for _, t in kept)
    if width is not None and len(text) > width:
        text = text[: width - 1] + "\u2026"
    return text


def _bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def _clock(started: float) -> str:
    elapsed = time.monotonic() - started
    return f"{int(elapsed // 60)}:{int(elapsed % 60):02d}"


def _client(args: argparse.Namespace) -> SiliconFlow:
    key = args.api_key if args.api_key is not None else os.environ.get("SILICONFLOW_API_KEY")
    if not (key or "").strip():  # a mistake of the command, before anything is sent
        problem = Problem("--api-key", "none given: give --api-key or set SILICONFLOW_API_KEY")
        raise InputValidationError("nothing was sent", [problem])
    return SiliconFlow(api_key=args.api_key, base_url=args.base_url, max_retries=args.max_retries)


def _metadata(pairs: Sequence[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputValidationError("bad --metadata", [Problem("--metadata", f"expected KEY=VALUE, got {pair!r}")])
        result[key] = value
    return result


def _create_args(args: argparse.Namespace) -> dict[str, Any]:
    """The create parameters from the command line, checked before anything is sent (or uploaded).

    For ``create`` and ``submit`` (the commands with ``--idempotency-key``), the metadata is checked as it
    will be sent, with the key (``--idempotency-key``'s, or the one the client makes for the call).
    """
    metadata = _metadata(args.metadata)
    keyed_command = hasattr(args, "idempotency_key")
    key_problems: list[Problem] = []
    sent: Mapping[str, str] | None = metadata
    if keyed_command:
        try:
            key, _ = create_key(metadata, args.idempotency_key)
        except InputValidationError as error:
            key_problems, key = error.problems, "key"
        sent = keyed(metadata, key)
    problems = validate_create(
        input_file_id=getattr(args, "input_file_id", None) or "(the uploaded file)",
        endpoint=CHAT_COMPLETIONS,
        completion_window=args.window,
        metadata=sent,
        replace_model=args.model,
    )
    if keyed_command:
        problems = [*key_problems, *name_the_key(problems, sent or {})]
    if problems:
        raise InputValidationError("nothing was sent", problems)
    create: dict[str, Any] = {"completion_window": args.window, "metadata": metadata, "replace_model": args.model}
    if keyed_command:
        create["idempotency_key"] = args.idempotency_key
    return create


def _show(out: _Output, batch: Batch) -> None:
    out.data(batch.to_dict(), lambda: _batch_text(batch))


def _file_dict(file: FileObject) -> dict[str, Any]:
    return {
        "id": file.id,
        "object": file.object,
        "bytes": file.bytes,
        "created_at": file.created_at,
        "filename": file.filename,
        "purpose": file.purpose,
        "line_count": file.line_count,
    }


def _batch_text(batch: Batch) -> str:
    total, completed, failed = batch.counts
    rows = [
        ("id", batch.id),
        ("status", str(batch.status)),
        ("requests", f"{completed} completed, {failed} failed, of {total}" if total else "-"),
        ("input file", batch.input_file_id),
        ("output file", batch.output_file_id or "-"),
        ("error file", batch.error_file_id or "-"),
        ("window", batch.completion_window),
        ("created", _iso(batch.created_at)),
    ]
    rows += [("error", message) for message in batch.error_messages()]
    return "\n".join(f"{name:<12} {value}" for name, value in rows)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [["-" if c is None else str(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _iso(timestamp: object) -> str:
    """A timestamp (seconds or milliseconds) as ISO 8601; anything else as it came, "-" when absent."""
    when = timestamp_datetime(timestamp)
    if when is not None:
        return when.isoformat()
    return "-" if timestamp is None else str(timestamp)


# The library speaks Python (its keyword arguments); the command line names its own flags instead.
_CLI_WORDS = {
    "pass partial=True": "give --partial",
    "pass api_key=... or set SILICONFLOW_API_KEY": "give --api-key or set SILICONFLOW_API_KEY",
}
_UNCHECKED = "(upload with validate=False to send it unchecked)"
_UNCHECKED_BY_COMMAND = {
    "validate": "(upload it with --no-validate to send it unchecked)",
    "upload": "(give --no-validate to send it unchecked)",
    "submit": "(give --no-validate to send it unchecked)",
    "run": "(a job checks every line: send this file with upload --no-validate, then create)",
}


# The library's parameter names, as the command's flags.
_FLAGS = {
    "completion_window": "--window",
    "replace_model": "--model",
    "input_file_id": "--input-file-id",
    "idempotency_key": "--idempotency-key",
    "metadata": "--metadata",
    "max_attempts": "--max-attempts",
    "max_shard_lines": "--shard-lines",
    "max_cost": "--max-cost",
    "max_outage": "--max-outage",
    "poll_interval": "--poll-interval",
    "max_poll_interval": "--max-poll-interval",
    "timeout": "--timeout",
}


def _flagged(error: InputValidationError) -> InputValidationError:
    """The error with each problem's field named as the command's flag (``--window``, not completion_window)."""

    def flag(problem: Problem) -> str:  # a problem at a line of the input is about the file, not a flag
        name, sep, rest = problem.field.partition("[")
        return _FLAGS[name] + sep + rest if name in _FLAGS and problem.line is None else problem.field

    if not any(flag(p) != p.field for p in error.problems):
        return error
    return InputValidationError(error.subject, [Problem(flag(p), p.message, p.line) for p in error.problems])


def in_cli_words(text: str, command: str | None = None) -> str:
    """A message of the library in the command line's words: its flags, not Python's keyword arguments."""
    for python, flag in _CLI_WORDS.items():
        text = text.replace(python, flag)
    unchecked = _UNCHECKED_BY_COMMAND.get(command or "", "(upload --no-validate sends it unchecked)")
    return text.replace(_UNCHECKED, unchecked)


def _plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 request``, ``2 requests`` (``nouns``: a plural that is not ``noun + "s"``)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def _report_text(report: ValidationReport, command: str | None = None) -> str:
    if report.ok:
        models = ", ".join(sorted(report.models)) or "-"
        return f"{report.path}: OK, {_plural(report.line_count, 'request')}, model {models}"
    lines = [f"{report.path}: {_plural(len(report.problems), 'problem')}"]
    lines += [f"  {in_cli_words(_problem_text(problem), command)}" for problem in report.problems]
    return "\n".join(lines)


def _problem_text(problem: Problem) -> str:
    """``line 3: custom_id: ...``; a problem of the line as a whole reads ``line 3: is not valid JSON``."""
    if problem.field == "line" and problem.line is not None:
        return f"line {problem.line}: {problem.message}"
    return str(problem)


def _report_dict(report: ValidationReport, command: str | None = None) -> dict[str, Any]:
    return {
        "path": str(report.path),
        "ok": report.ok,
        "requests": report.line_count,
        "models": sorted(report.models),
        "problems": [
            {"line": p.line, "field": p.field, "message": in_cli_words(p.message, command)} for p in report.problems
        ],
    }


def _terminal_code(batch: Batch) -> int:
    return OK if batch.status == "completed" else FAILED


# --- commands ------------------------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace, out: _Output) -> int:
    report = validate_requests(args.file, replace_model=args.model)
    out.data(_report_dict(report, "validate"), lambda: _report_text(report, "validate"))
    return OK if report.ok else USAGE


def cmd_upload(args: argparse.Namespace, out: _Output) -> int:
    with _client(args) as client:
        file = client.files.upload(args.file, validate=not args.no_validate, replace_model=args.model)
    out.data(_file_dict(file), lambda: f"uploaded {file.filename} as {file.id} ({file.bytes} bytes)")
    return OK


def cmd_create(args: argparse.Namespace, out: _Output) -> int:
    create = _create_args(args)
    with _client(args) as client:
        batch = client.batches.create(input_file_id=args.input_file_id, **create)
    _show(out, batch)
    return OK


def _output_dir(value: str | None) -> Path | None:
    """--output DIR of submit: a folder that is there or can be made, checked before anything is sent."""
    if value is None:
        return None
    path = Path(value)
    if path.exists() and not path.is_dir():
        raise InputValidationError(f"cannot save results in {path}", [Problem("--output", "is a file; give a folder")])
    return path


def cmd_submit(args: argparse.Namespace, out: _Output) -> int:
    create = _create_args(args)
    output = _output_dir(args.output)
    if output is not None and not args.wait:
        raise InputValidationError("bad usage", [Problem("--output", "needs --wait (results exist once it ends)")])
    if args.fail_on_errors and not args.wait:
        raise InputValidationError("bad usage", [Problem("--fail-on-errors", "needs --wait (requests end then)")])
    report = None if args.no_validate else validate_requests(args.file, replace_model=args.model)
    if report is not None and not report.ok:
        out.data(_report_dict(report, "submit"), lambda: _report_text(report, "submit"))
        return USAGE
    with _client(args) as client:
        key = args.idempotency_key
        existing = client.batches.find(key) if key is not None else None
        if existing is not None:  # a re-run: the batch is made, and its input with it
            batch = existing
            out.note(f"batch {batch.id} ({batch.status}) was already created with idempotency key {key}")
        else:
            file = client.files.upload(args.file, validate=False)
            counted = f"{_plural(report.line_count, 'request')}" if report is not None else "unchecked"
            out.note(f"uploaded {file.filename} as {file.id} ({counted})")
            batch = client.batches.create(input_file_id=file.id, **create)
            out.note(f"created batch {batch.id} ({batch.status})")
        args.batch_id = batch.id  # for the resume hint if interrupted
        if not args.wait:
            _show(out, batch)
            return OK
        batch = _wait(client, batch.id, args, out)
        expected = report.custom_ids if report is not None else []
        saved = _save_results(client, batch, output, expected, out) if output is not None else {}
    out.data(
        {"batch": batch.to_dict(), "files": {k: str(v) for k, v in saved.items()}},
        lambda: _batch_text(batch) + "".join(f"\n{_SAVED[k]:<12} {v}" for k, v in saved.items()),
    )
    return out.failed_requests(batch.counts[2], args, _terminal_code(batch))


def _wait(client: SiliconFlow, batch_id: str, args: argparse.Namespace, out: _Output) -> Batch:
    started = time.monotonic()
    try:
        batch = client.batches.wait(
            batch_id,
            poll_interval=args.poll_interval,
            timeout=args.timeout,
            max_outage=args.max_outage,
            max_poll_interval=args.max_poll_interval,
            on_update=lambda b: out.progress(b, started),
        )
    finally:
        out.close_bar()
    return batch


_SAVED = {"output file": "saved output", "error file": "saved errors", "results": "results"}


def _save_results(
    client: SiliconFlow, batch: Batch, directory: Path, expected: list[str], out: _Output
) -> dict[str, Path]:
    directory.mkdir(parents=True, exist_ok=True)
    saved: dict[str, Path] = {}
    for label, file_ref in (("output file", batch.output_file_id), ("error file", batch.error_file_id)):
        if isinstance(file_ref, str) and file_ref:
            name = "output.jsonl" if label == "output file" else "errors.jsonl"
            saved[label] = client.files.download(file_ref, directory / name)
    results = directory / "results.jsonl"
    count, _ = _write_results(client.batches.results(batch, expected_ids=expected or None), results)
    saved["results"] = results
    out.note(f"wrote {count} results to {results}")
    return saved


def _write_results(results: Any, path: Path) -> tuple[int, int]:
    """Write ``results`` as JSONL to ``path``; return how many, and how many failed."""
    count = failed = 0
    with atomic_write(path) as handle:
        for result in results:
            handle.write(json.dumps(result.to_dict(), ensure_ascii=False).encode() + b"\n")
            count += 1
            failed += not result.ok
    return count, failed


def cmd_get(args: argparse.Namespace, out: _Output) -> int:
    with _client(args) as client:
        batch = client.batches.retrieve(args.batch_id)
    _show(out, batch)
    return OK


def cmd_list(args: argparse.Namespace, out: _Output) -> int:
    with _client(args) as client:
        pager = client.batches.list(limit=args.limit)
        if args.all:
            items = list(pager)
        else:
            first = next(iter(pager.iter_pages()), None)
            items = first.data if first is not None else []
            if first is not None and first.has_more:
                shown = _plural(len(items), "batch", "batches")
                out.note(f"showing the newest {shown}; there are more: --all lists every one")
    rows = [(b.id, str(b.status), "{1}/{0}".format(*b.counts), _iso(b.created_at), b.file_name) for b in items]
    out.data(
        [b.to_dict() for b in items],
        lambda: _table(["id", "status", "done", "created", "file"], rows) if rows else "no batches",
    )
    return OK


def cmd_cancel(args: argparse.Namespace, out: _Output) -> int:
    with _client(args) as client:
        batch = client.batches.cancel(args.batch_id)
    _show(out, batch)
    return OK


def cmd_wait(args: argparse.Namespace, out: _Output) -> int:
    with _client(args) as client:
        batch = _wait(client, args.batch_id, args, out)
    _show(out, batch)
    return out.failed_requests(batch.counts[2], args, _terminal_code(batch))


def cmd_results(args: argparse.Namespace, out: _Output) -> int:
    if args.output:
        check_destination(Path(args.output), what="--output")
    with _client(args) as client:
        results = client.batches.results(args.batch_id, skip_bad_lines=args.skip_bad_lines, partial=args.partial)
        if args.output:
            count, failed = _write_results(results, Path(args.output))
            out.data({"results": count, "path": args.output}, lambda: f"wrote {count} results to {args.output}")
            return out.failed_requests(failed, args, OK)
        failed = print_results(results, out)
    return out.failed_requests(failed, args, OK)


def print_results(results: Iterable[BatchResult], out: _Output) -> int:
    """Print results: a JSON line each with ``--json``, else ``custom_id, ok/FAILED, content or error``.

    Returns how many failed.
    """
    failed = 0
    for result in results:
        failed += not result.ok
        if out.as_json:
            print(json.dumps(result.to_dict(), ensure_ascii=False), file=out.stream)
            continue
        text = shorten(result.content or "", 100) if result.ok else _failure_text(result)
        print(f"{result.custom_id}\t{'ok' if result.ok else 'FAILED'}\t{text}", file=out.stream)
    return failed


FILES_PAGE = 10  # the server's page of GET /files when no limit is asked


def _failure_text(result: BatchResult) -> str:
    """Why a request failed, whole and on one line: ``code: message`` when the error has them, else its JSON."""
    error: Any = result.error or (result.body or {}).get("error") or result.body
    if isinstance(error, dict) and isinstance(error.get("message"), str):
        code = error.get("code")
        status = f"{code}: " if code not in (None, "") else ""
        return " ".join(f"{status}{error['message']}".split())
    return json.dumps(error, ensure_ascii=False)


def cmd_files(args: argparse.Namespace, out: _Output) -> int:
    with _client(args) as client:
        limit = args.limit or FILES_PAGE
        files = client.files.list(limit=args.limit)
        # GET /files has no cursor: --all asks for more at once until the answer is shorter than what was asked
        # (or stops growing, should the server cap it).
        while args.all and len(files) >= limit:
            limit *= 10
            more = client.files.list(limit=limit)
            if len(more) <= len(files):
                break
            files = more
    if not args.all and len(files) >= limit:
        out.note(f"showing {_plural(len(files), 'file')}; there may be more: --all lists every one")
    rows = [(f.id, f.filename, f.bytes, f.line_count, _iso(f.created_at)) for f in files]
    out.data(
        [_file_dict(f) for f in files],
        lambda: _table(["id", "filename", "bytes", "lines", "created"], rows) if rows else "no files",
    )
    return OK


def cmd_run(args: argparse.Namespace, out: _Output) -> int:
    from ._cli_jobs import cmd_run as run_job

    return run_job(args, out)


def cmd_job(args: argparse.Namespace, out: _Output) -> int:
    from ._cli_jobs import cmd_job as job_command

    return job_command(args, out)


def cmd_emulator(args: argparse.Namespace, out: _Output) -> int:
    try:
        from .testing import Emulator, Faults
    except ImportError as missing:  # the emulator extra is not installed: one line, a mistake of setup
        if "siliconflow-batch[emulator]" not in str(missing):
            raise
        extra = "pip install 'siliconflow-batch[emulator]'"
        return out.fail(f"the emulator needs the [emulator] extra ({missing.__cause__ or missing}): {extra}", USAGE)

    faults = Faults(rate=args.fault_rate, seed=args.seed)
    key = args.emulator_key or os.environ.get("SILICONFLOW_API_KEY", "").strip() or "sk-emulator"
    faults.result_not_found(times=args.result_not_found)
    emulator = Emulator(
        api_key=key,
        stage_seconds=args.stage_seconds,
        state_dir=args.state_dir,
        faults=faults,
        serve_inputs=args.serve_inputs,
        result_urls=not args.result_ids,
        result_host=args.result_host,
        charge_balance=f"{args.charge_balance:.2f}",
    )
    try:
        server = emulator.serve(port=args.port, host=args.host)
    except OSError as error:
        problem = Problem("--port", f"cannot listen on {args.host}:{args.port}: {error.strerror}")
        raise InputValidationError("the emulator did not start", [problem]) from None
    with server:
        source = "--emulator-key" if args.emulator_key else "the default" if key == "sk-emulator" else "from the env"
        out.note(f"emulator listening on {server.url} (API key: {source}, never shown); Ctrl-C stops it")
        print(json.dumps({"url": server.url}) if out.as_json else server.url, file=out.stream, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            out.note("emulator stopped")
    return OK


# --- parsing -------------------------------------------------------------------------------------------------


def _version_text() -> str:
    from siliconflow_batch_generated._provenance import GENERATOR_VERSION, SPEC_SHA256

    return f"siliconflow-batch {package_version()} (spec sha256 {SPEC_SHA256}, {GENERATOR_VERSION})"


def _non_negative(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {value!r}")
    return number


def _yuan(value: str) -> Decimal:
    """``--max-cost``: a number of yuan >= 0 (a bad one is exit 2, naming the flag)."""
    cap, problem = checked_max_cost(value)
    if problem is not None or cap is None:
        raise argparse.ArgumentTypeError(f"must be a number of yuan >= 0, got {value!r}")
    return Decimal(cap)


def _bounded_int(low: int, high: int | None = None) -> Callable[[str], int]:
    def parse(value: str) -> int:
        try:
            number = int(value)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
        if number < low or (high is not None and number > high):
            bound = f"between {low} and {high}" if high is not None else f">= {low}"
            raise argparse.ArgumentTypeError(f"must be {bound}, got {number}")
        return number

    return parse


def _share(value: str) -> float:
    number = _non_negative(value)
    if number > 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value!r}")
    return number


def _add_common(parser: argparse.ArgumentParser, *, suppress: bool, sends: bool = True) -> None:
    """Add the options every command takes.

    On the commands they default to SUPPRESS, so that one given before the command (on the top-level parser)
    is not overwritten by the command's default. A command that sends nothing still accepts the options about
    sending (a script may give them to every command) but does not show them in its help.
    """

    def default(value: Any) -> Any:
        return argparse.SUPPRESS if suppress else value

    def shown(text: str) -> str:
        return text if sends else argparse.SUPPRESS

    parser.add_argument(
        "--base-url",
        default=default(None),
        help=shown("API base URL (default: $SILICONFLOW_BASE_URL or the vendor's)"),
    )
    parser.add_argument("--api-key", default=default(None), help=shown("API key (default: $SILICONFLOW_API_KEY)"))
    parser.add_argument("--json", action="store_true", default=default(False), help="print JSON for scripts")
    parser.add_argument(
        "--max-retries",
        type=_bounded_int(0),
        default=default(2),
        help=shown("retries of a failed request (default 2)"),
    )


class _Parser(argparse.ArgumentParser):
    """argparse, whose usage errors are one JSON object on stderr when --json is given."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        if _Parser.json_errors:
            print(json.dumps({"error": f"{self.prog}: {message}", "exit_code": USAGE}), file=sys.stderr)
            sys.exit(USAGE)
        super().error(message)


def _parser() -> argparse.ArgumentParser:
    common = _Parser(add_help=False)
    _add_common(common, suppress=True)

    parser = _Parser(
        prog="siliconflow-batch",
        description=__doc__.split("\n\n")[0].replace("``", ""),
        epilog="Options such as --base-url and --json may come before or after the command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    _add_common(parser, suppress=False)
    parser.add_argument("--version", action="version", version=_version_text())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    local = _Parser(add_help=False)  # for a command that sends nothing: key, URL and retries not in its help
    _add_common(local, suppress=True, sends=False)

    def command(name: str, handler: Callable[..., int], help: str, *, sends: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, parents=[common if sends else local])
        sub.set_defaults(handler=handler, parser=sub)
        return sub

    def waiting(sub: argparse.ArgumentParser) -> None:
        sub.add_argument(
            "--poll-interval", type=_non_negative, default=DEFAULT_POLL_INTERVAL,
            help=f"seconds between polls (default {DEFAULT_POLL_INTERVAL:g})",
        )  # fmt: skip
        sub.add_argument("--timeout", type=_non_negative, default=None, help="give up after this many seconds")
        sub.add_argument(
            "--max-poll-interval",
            type=_non_negative,
            default=None,
            help="stretch the poll interval while nothing changes, up to this many seconds (default: fixed)",
        )
        sub.add_argument(
            "--max-outage",
            type=_non_negative,
            default=DEFAULT_MAX_OUTAGE,
            help=f"give up once polls have failed this many seconds in a row (default {DEFAULT_MAX_OUTAGE:g})",
        )

    def fail_on_errors(sub: argparse.ArgumentParser, when: str = "") -> None:
        sub.add_argument(
            "--fail-on-errors", action="store_true", help=f"{when}exit 1 when any request ended failed (default: 0)"
        )

    def creating(sub: argparse.ArgumentParser, pairs: str = "at most 16") -> None:
        sub.add_argument("--model", help="run every request on this model (the batch's replace.model)")
        window = f"{MIN_WINDOW_HOURS}h..{MAX_WINDOW_HOURS}h"
        sub.add_argument(
            "--window", default=DEFAULT_COMPLETION_WINDOW,
            help=f"completion window, {window} (default {DEFAULT_COMPLETION_WINDOW})",
        )  # fmt: skip
        sub.add_argument(
            "--metadata", action="append", metavar="KEY=VALUE", help=f"a metadata pair; repeat for more ({pairs})"
        )

    def keyed_creating(sub: argparse.ArgumentParser) -> None:
        creating(sub, pairs=f"at most {MAX_METADATA_PAIRS - 1}: the idempotency key takes one of {MAX_METADATA_PAIRS}")
        sub.add_argument(
            "--idempotency-key",
            metavar="KEY",
            help="kept in the batch's metadata: running the command again with the same KEY returns the batch "
            "already created instead of making a second (default: a key made for this call, which still "
            "resolves a failed create by looking it up)",
        )

    file_help = "the batch input file (JSONL, one request a line)"
    batch_help = "the batch's id (batch_...)"
    sub = command("validate", cmd_validate, "check a batch input file without sending it", sends=False)
    sub.add_argument("file", metavar="FILE", help=file_help)
    sub.add_argument("--model", help="the model the batch will use for every request (--model of submit and create)")

    sub = command("upload", cmd_upload, "validate and upload a batch input file")
    sub.add_argument("file", metavar="FILE", help=file_help)
    sub.add_argument("--model", help="the model the batch will use for every request (--model of submit and create)")
    sub.add_argument("--no-validate", action="store_true", help="skip client-side validation")

    sub = command("create", cmd_create, "create a batch over an uploaded file")
    sub.add_argument("--input-file-id", required=True, metavar="ID", help="the uploaded input file (file-...)")
    keyed_creating(sub)

    sub = command("submit", cmd_submit, "validate, upload and create a batch; with --wait, follow it to the end")
    sub.add_argument("file", metavar="FILE", help=file_help)
    keyed_creating(sub)
    sub.add_argument("--no-validate", action="store_true", help="skip client-side validation of the file")
    sub.add_argument("--wait", action="store_true", help="wait until the batch ends")
    sub.add_argument("--output", metavar="DIR", help="with --wait: save output, errors and results here")
    fail_on_errors(sub, "with --wait: ")
    waiting(sub)

    sub = command("get", cmd_get, "show a batch")
    sub.add_argument("batch_id", metavar="BATCH_ID", help=batch_help)

    sub = command("list", cmd_list, "list batches, newest first (the first page, or --all)")
    sub.add_argument("--limit", type=_bounded_int(1), default=20, help="batches per page (default 20)")
    sub.add_argument("--all", action="store_true", help="follow every page")

    sub = command("cancel", cmd_cancel, "cancel a batch")
    sub.add_argument("batch_id", metavar="BATCH_ID", help=batch_help)

    sub = command("wait", cmd_wait, "wait until a batch ends, showing progress")
    sub.add_argument("batch_id", metavar="BATCH_ID", help=batch_help)
    fail_on_errors(sub)
    waiting(sub)

    sub = command("results", cmd_results, "print or save a batch's results (once it has ended)")
    sub.add_argument("batch_id", metavar="BATCH_ID", help=batch_help)
    sub.add_argument("--output", metavar="FILE", help="write the results as JSONL to FILE")
    sub.add_argument("--skip-bad-lines", action="store_true", help="skip malformed result lines")
    sub.add_argument("--partial", action="store_true", help="allow the results so far of a batch still running")
    fail_on_errors(sub)

    sub = command("files", cmd_files, "list uploaded batch files (the first 10, or --limit, or --all)")
    sub.add_argument(
        "--limit", type=_bounded_int(1), default=None, help="list at most this many (default: the server's, 10)"
    )
    sub.add_argument("--all", action="store_true", help="list every file")

    sub = command("run", cmd_run, "run a workload of any size as a job (shards, resubmission, merged results)")
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
    yours = MAX_METADATA_PAIRS - RESERVED_METADATA
    creating(sub, pairs=f"at most {yours}: the job's batches carry {RESERVED_METADATA} of their own")
    sub.add_argument(
        "--max-attempts",
        type=_bounded_int(1),
        default=DEFAULT_MAX_ATTEMPTS,
        help=f"send a request at most this many times (default {DEFAULT_MAX_ATTEMPTS})",
    )
    sub.add_argument(
        "--shard-lines",
        type=_bounded_int(1, MAX_LINES),
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
        "--max-cost", type=_yuan, metavar="YUAN", help="create no batch that could take the job's cost past this"
    )
    sub.add_argument("--prices", metavar="FILE", help="batch prices (default: $SILICONFLOW_BATCH_PRICES, packaged)")
    sub.add_argument(
        "--calibrate-from", action="append", metavar="DIR", help="--dry-run: calibrate from the lines this job ran"
    )
    fail_on_errors(sub)
    waiting(sub)

    sub = command("job", cmd_job, "a job's status, or wait for it, print its results, or cancel it")
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

    sub = command("emulator", cmd_emulator, "run the local emulator of the API on 127.0.0.1")
    sub.add_argument(
        "--port", type=_bounded_int(0, 65535), default=8000, help="port to listen on (default 8000; 0: any free one)"
    )
    sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sub.add_argument(
        "--emulator-key",
        default=None,
        help="the key the emulator accepts (default: $SILICONFLOW_API_KEY, else sk-emulator)",
    )
    sub.add_argument("--stage-seconds", type=_non_negative, default=1.0, help="how long each batch stage lasts")
    sub.add_argument("--state-dir", default=None, help="keep state in this directory instead of memory")
    sub.add_argument("--fault-rate", type=_share, default=0.0, help="inject faults into this share of requests")
    sub.add_argument("--seed", type=int, default=0, help="seed of the fault injection")
    # Strict as the vendor by default; each flag below gives back one leniency or adds one vendor failure.
    sub.add_argument(
        "--serve-inputs", action="store_true", help="serve uploaded input files back (the vendor does not)"
    )
    sub.add_argument(
        "--result-ids", action="store_true", help="name result files by plain id, not by signed URL on another host"
    )
    sub.add_argument(
        "--result-host", default=None, help="host name of the result URLs (default: localhost for 127.0.0.1)"
    )
    sub.add_argument(
        "--result-not-found",
        type=_bounded_int(0, 1000),
        default=0,
        metavar="N",
        help="each result file answers 404 to its first N downloads, as the vendor may just after completion",
    )
    sub.add_argument(
        "--charge-balance",
        type=_non_negative,
        default=88.0,
        help="the recharged balance (yuan); at 0 a create answers 402, as the vendor's does",
    )
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the command line; return its exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    _Parser.json_errors = "--json" in words[: words.index("--") if "--" in words else None]
    args = _parser().parse_args(words)
    out = _Output(args.json, stdout or sys.stdout, stderr or sys.stderr)
    try:
        code: int = args.handler(args, out)
        return code
    except (InputValidationError, JobInputMismatchError) as error:
        if isinstance(error, InputValidationError):
            error = _flagged(error)
        problems = error.problems if isinstance(error, InputValidationError) else ()
        return out.fail(in_cli_words(str(error), args.command), USAGE, problems)
    except BatchNotFinishedError as error:
        return out.fail(in_cli_words(str(error), args.command), FAILED)
    except BrokenPipeError:
        raise  # the reader of stdout went away: run() ends quietly
    except OSError as error:  # a path the user named that cannot be read or written
        where = f" ({error.filename})" if error.filename else ""
        named = _path_argument(args, error.filename)
        return out.fail(f"{named + ': ' if named else ''}{error.strerror or error}{where}", USAGE)
    except KeyboardInterrupt as stop:
        out.close_bar()
        code = TERMINATED if isinstance(stop, _Terminated) else INTERRUPTED
        what = "terminated" if code == TERMINATED else "interrupted"
        resume_command = getattr(args, "resume_command", None)
        batch_id = getattr(args, "batch_id", None)
        if resume_command is not None:
            started = getattr(args, "job_started", True)
            running = "the job's batches keep running" if started else "the job was still being submitted"
            message = f"{what}: nothing is lost; {running}. Resume with:\n  {resume_command}"
        elif batch_id:
            message = f"{what}: the batch keeps running on the server; resume with: {_wait_hint(args, batch_id)}"
        else:
            message = f"{what}: nothing was left running by this command"
        if out.as_json:  # as an error is: one JSON object on stderr
            return out.fail(message, code)
        out.note(message)
        return code
    except SiliconFlowError as error:
        notes = "".join(f"\n  {note}" for note in getattr(error, "__notes__", ()))
        hint = _not_found_hint(error, args) if isinstance(error, NotFoundError) else ""
        return out.fail(f"{in_cli_words(str(error), args.command)}{hint}{notes}", FAILED)


# The options every command takes, and their defaults as the top-level parser has them.
_COMMON_DEFAULTS: dict[str, Any] = {"base_url": None, "api_key": None, "json": False, "max_retries": 2}


def options_given(args: argparse.Namespace, *, leave_out: Sequence[str] = ()) -> list[str]:
    """The options of the command that were given a value other than their default, as words of a command.

    The API key is never among them (it stays in the environment, or a flag you give again).
    """
    parser: argparse.ArgumentParser | None = getattr(args, "parser", None)
    if parser is None:
        return []
    words: list[str] = []
    for action in parser._actions:
        dest = action.dest
        if not action.option_strings or dest in ("help", "api_key", *leave_out) or not hasattr(args, dest):
            continue
        value = getattr(args, dest)
        default = _COMMON_DEFAULTS.get(dest, action.default) if action.default is argparse.SUPPRESS else action.default
        if value == default or value is None:
            continue
        flag = action.option_strings[-1]
        if value is True:
            words.append(flag)
        elif isinstance(value, list):
            for item in value:
                words += [flag, str(item)]
        else:
            words += [flag, f"{value:g}" if isinstance(value, float) else str(value)]
    return words


def _wait_hint(args: argparse.Namespace, batch_id: str) -> str:
    """How to go on following a batch, with the options given; and, for submit --output, how to save it."""
    waiting = ("poll_interval", "timeout", "max_poll_interval", "max_outage", "base_url", "fail_on_errors")
    given = options_given(args, leave_out=[d for d in vars(args) if d not in waiting])
    hint = shlex.join(["siliconflow-batch", "wait", batch_id, *given])
    output = getattr(args, "output", None)
    if args.command == "submit" and output:
        base = options_given(args, leave_out=[d for d in vars(args) if d != "base_url"])
        saved = ["siliconflow-batch", "results", batch_id, "--output", str(Path(output) / "results.jsonl"), *base]
        hint += f"\n  then save its results with: {shlex.join(saved)}"
    return hint


def _path_argument(args: argparse.Namespace, filename: object) -> str | None:
    """The option or argument that named ``filename`` (or a folder holding it), for the message."""
    if not isinstance(filename, str | os.PathLike):
        return None
    path = os.path.normpath(os.fspath(filename))
    names = {
        "job_dir": "DIR" if args.command == "job" else "--job-dir",
        "state_dir": "--state-dir",
        "output": "--output",
        "input": "INPUT",
        "file": "FILE",
    }
    for dest, name in names.items():
        value = getattr(args, dest, None)
        if isinstance(value, str) and value:
            given = os.path.normpath(value)
            if path == given or path.startswith(given.rstrip(os.sep) + os.sep):
                return name
    return None


def _not_found_hint(error: NotFoundError, args: argparse.Namespace) -> str:
    """What a 404 means: a base URL that is not the API's (no /v1), or no such batch."""
    if error.request is None:
        return ""
    path = error.request.url.path
    if "/v1/" not in path:
        base = (getattr(args, "base_url", None) or os.environ.get("SILICONFLOW_BASE_URL") or "").rstrip("/")
        return f"\n  the API's paths are under /v1: try --base-url {base}/v1"
    batch_id = getattr(args, "batch_id", None)
    if batch_id and path.rstrip("/").split("/")[-2:] in (["batches", batch_id], [batch_id, "cancel"]):
        return f"\n  there is no batch {batch_id} (siliconflow-batch list shows the batches)"
    return ""


class _Terminated(KeyboardInterrupt):
    """SIGTERM, handled as Ctrl-C is (the resume hint), with its own exit code."""


def _terminate(signum: int, frame: object) -> None:
    raise _Terminated


def run() -> None:
    """Console-script entry point."""
    signal.signal(signal.SIGTERM, _terminate)
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (say `| head`): stop quietly, as the Python docs advise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = CLOSED_PIPE
    sys.exit(code)
