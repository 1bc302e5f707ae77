"""The batch commands: validate, upload, create, submit, get, list, cancel, wait, results and files."""

from __future__ import annotations

import argparse
import json
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from .._atomic import atomic_write, check_destination
from .._exceptions import InputValidationError, shorten
from .._problem import Problem
from .._sync.client import SiliconFlow
from ..types import Batch, BatchResult, FileObject
from ..validation import validate_requests
from ._args import AddCommand, bounded_int, client_for, create_args, fail_on_errors, keyed_creating, waiting
from ._output import FAILED, OK, USAGE, Output, iso, plural, table
from ._words import report_dict, report_text

__all__ = ["print_results", "register"]


def _show(out: Output, batch: Batch) -> None:
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
        ("created", iso(batch.created_at)),
    ]
    rows += [("error", message) for message in batch.error_messages()]
    return "\n".join(f"{name:<12} {value}" for name, value in rows)


def _terminal_code(batch: Batch) -> int:
    return OK if batch.status == "completed" else FAILED


def cmd_validate(args: argparse.Namespace, out: Output) -> int:
    report = validate_requests(args.file, replace_model=args.model)
    out.data(report_dict(report), lambda: report_text(report))
    return OK if report.ok else USAGE


def cmd_upload(args: argparse.Namespace, out: Output) -> int:
    with client_for(args) as client:
        file = client.files.upload(args.file, validate=not args.no_validate, replace_model=args.model)
    out.data(_file_dict(file), lambda: f"uploaded {file.filename} as {file.id} ({file.bytes} bytes)")
    return OK


def cmd_create(args: argparse.Namespace, out: Output) -> int:
    create = create_args(args)
    with client_for(args) as client:
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


def cmd_submit(args: argparse.Namespace, out: Output) -> int:
    create = create_args(args)
    output = _output_dir(args.output)
    if output is not None and not args.wait:
        raise InputValidationError("bad usage", [Problem("--output", "needs --wait (results exist once it ends)")])
    if args.fail_on_errors and not args.wait:
        raise InputValidationError("bad usage", [Problem("--fail-on-errors", "needs --wait (requests end then)")])
    report = None if args.no_validate else validate_requests(args.file, replace_model=args.model)
    if report is not None and not report.ok:
        out.data(report_dict(report), lambda: report_text(report))
        return USAGE
    with client_for(args) as client:
        key = args.idempotency_key
        existing = client.batches.find(key) if key is not None else None
        if existing is not None:  # a re-run: the batch is made, and its input with it
            batch = existing
            out.note(f"batch {batch.id} ({batch.status}) was already created with idempotency key {key}")
        else:
            file = client.files.upload(args.file, validate=False)
            counted = f"{plural(report.line_count, 'request')}" if report is not None else "unchecked"
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


def _wait(client: SiliconFlow, batch_id: str, args: argparse.Namespace, out: Output) -> Batch:
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
    client: SiliconFlow, batch: Batch, directory: Path, expected: list[str], out: Output
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


def _one(args: argparse.Namespace, out: Output, call: Callable[[SiliconFlow], Batch]) -> int:
    """Show the batch that ``call`` gives back (``get``, ``cancel``)."""
    with client_for(args) as client:
        batch = call(client)
    _show(out, batch)
    return OK


def cmd_get(args: argparse.Namespace, out: Output) -> int:
    return _one(args, out, lambda client: client.batches.retrieve(args.batch_id))


def cmd_list(args: argparse.Namespace, out: Output) -> int:
    with client_for(args) as client:
        pager = client.batches.list(limit=args.limit)
        if args.all:
            items = list(pager)
        else:
            first = next(iter(pager.iter_pages()), None)
            items = first.data if first is not None else []
            if first is not None and first.has_more:
                shown = plural(len(items), "batch", "batches")
                out.note(f"showing the newest {shown}; there are more: --all lists every one")
    rows = [(b.id, str(b.status), "{1}/{0}".format(*b.counts), iso(b.created_at), b.file_name) for b in items]
    out.data(
        [b.to_dict() for b in items],
        lambda: table(["id", "status", "done", "created", "file"], rows) if rows else "no batches",
    )
    return OK


def cmd_cancel(args: argparse.Namespace, out: Output) -> int:
    return _one(args, out, lambda client: client.batches.cancel(args.batch_id))


def cmd_wait(args: argparse.Namespace, out: Output) -> int:
    with client_for(args) as client:
        batch = _wait(client, args.batch_id, args, out)
    _show(out, batch)
    return out.failed_requests(batch.counts[2], args, _terminal_code(batch))


def cmd_results(args: argparse.Namespace, out: Output) -> int:
    if args.output:
        check_destination(Path(args.output), what="--output")
    with client_for(args) as client:
        results = client.batches.results(args.batch_id, skip_bad_lines=args.skip_bad_lines, partial=args.partial)
        if args.output:
            count, failed = _write_results(results, Path(args.output))
            out.data({"results": count, "path": args.output}, lambda: f"wrote {count} results to {args.output}")
            return out.failed_requests(failed, args, OK)
        failed = print_results(results, out)
    return out.failed_requests(failed, args, OK)


def print_results(results: Iterable[BatchResult], out: Output) -> int:
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


def cmd_files(args: argparse.Namespace, out: Output) -> int:
    with client_for(args) as client:
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
        out.note(f"showing {plural(len(files), 'file')}; there may be more: --all lists every one")
    rows = [(f.id, f.filename, f.bytes, f.line_count, iso(f.created_at)) for f in files]
    out.data(
        [_file_dict(f) for f in files],
        lambda: table(["id", "filename", "bytes", "lines", "created"], rows) if rows else "no files",
    )
    return OK


def register(add: AddCommand) -> None:
    """Add the batch commands to the parser (``add`` as ``_main.build_parser`` gives it)."""
    file_help = "the batch input file (JSONL, one request a line)"
    batch_help = "the batch's id (batch_...)"
    sub = add("validate", cmd_validate, "check a batch input file without sending it", sends=False)
    sub.add_argument("file", metavar="FILE", help=file_help)
    sub.add_argument("--model", help="the model the batch will use for every request (--model of submit and create)")

    sub = add("upload", cmd_upload, "validate and upload a batch input file")
    sub.add_argument("file", metavar="FILE", help=file_help)
    sub.add_argument("--model", help="the model the batch will use for every request (--model of submit and create)")
    sub.add_argument("--no-validate", action="store_true", help="skip client-side validation")

    sub = add("create", cmd_create, "create a batch over an uploaded file")
    sub.add_argument("--input-file-id", required=True, metavar="ID", help="the uploaded input file (file-...)")
    keyed_creating(sub)

    sub = add("submit", cmd_submit, "validate, upload and create a batch; with --wait, follow it to the end")
    sub.add_argument("file", metavar="FILE", help=file_help)
    keyed_creating(sub)
    sub.add_argument("--no-validate", action="store_true", help="skip client-side validation of the file")
    sub.add_argument("--wait", action="store_true", help="wait until the batch ends")
    sub.add_argument("--output", metavar="DIR", help="with --wait: save output, errors and results here")
    fail_on_errors(sub, "with --wait: ")
    waiting(sub)

    sub = add("get", cmd_get, "show a batch")
    sub.add_argument("batch_id", metavar="BATCH_ID", help=batch_help)

    sub = add("list", cmd_list, "list batches, newest first (the first page, or --all)")
    sub.add_argument("--limit", type=bounded_int(1), default=20, help="batches per page (default 20)")
    sub.add_argument("--all", action="store_true", help="follow every page")

    sub = add("cancel", cmd_cancel, "cancel a batch")
    sub.add_argument("batch_id", metavar="BATCH_ID", help=batch_help)

    sub = add("wait", cmd_wait, "wait until a batch ends, showing progress")
    sub.add_argument("batch_id", metavar="BATCH_ID", help=batch_help)
    fail_on_errors(sub)
    waiting(sub)

    sub = add("results", cmd_results, "print or save a batch's results (once it has ended)")
    sub.add_argument("batch_id", metavar="BATCH_ID", help=batch_help)
    sub.add_argument("--output", metavar="FILE", help="write the results as JSONL to FILE")
    sub.add_argument("--skip-bad-lines", action="store_true", help="skip malformed result lines")
    sub.add_argument("--partial", action="store_true", help="allow the results so far of a batch still running")
    fail_on_errors(sub)

    sub = add("files", cmd_files, "list uploaded batch files (the first 10, or --limit, or --all)")
    sub.add_argument(
        "--limit", type=bounded_int(1), default=None, help="list at most this many (default: the server's, 10)"
    )
    sub.add_argument("--all", action="store_true", help="list every file")
