"""The ``siliconflow-batch`` command: validate, upload, submit, wait, fetch results, and run the emulator.

Exit codes: 0 done; 1 an API error, or a batch that ended failed, expired or cancelled; 2 bad usage or input
(with the validation report); 130 interrupted (the batch keeps running on the server).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from ._client import SiliconFlow
from ._exceptions import InputValidationError, Problem, SiliconFlowError
from ._version import package_version
from .types import Batch, BatchResult, FileObject, Unset
from .validation import ValidationReport, validate_requests

__all__ = ["main"]

OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130


class _Output:
    """Where and how the command prints: human text or JSON, progress bar or one line per change."""

    def __init__(self, as_json: bool, stream: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.as_json = as_json
        self.stream = stream
        self.err = err
        self.tty = err.isatty()
        self._bar_open = False

    def data(self, value: Any, human: Callable[[], str]) -> None:
        """Print ``value`` as JSON, or ``human()`` as text."""
        self.close_bar()
        print(json.dumps(value, indent=2, default=str) if self.as_json else human(), file=self.stream)

    def note(self, text: str) -> None:
        """A message for the person at the terminal (stderr, so stdout stays parseable)."""
        self.close_bar()
        print(text, file=self.err)

    def progress(self, batch: Batch, started: float) -> None:
        """Show the batch's progress: a live bar on a terminal, a line per change otherwise."""
        total, completed, failed = batch.counts
        elapsed = time.monotonic() - started
        clock = f"{int(elapsed // 60)}:{int(elapsed % 60):02d}"
        counts = f"{completed}/{total} done, {failed} failed" if total else "counting requests"
        if not self.tty:
            print(f"[{clock}] {batch.id} {batch.status}: {counts}", file=self.err, flush=True)
            return
        width = 30
        filled = int(width * (completed + failed) / total) if total else 0
        bar = "#" * filled + "-" * (width - filled)
        print(f"\r[{bar}] {batch.status:<11} {counts}  {clock} ", end="", file=self.err, flush=True)
        self._bar_open = True

    def close_bar(self) -> None:
        """End a live progress line before printing anything else."""
        if self._bar_open:
            print(file=self.err)
            self._bar_open = False


def _client(args: argparse.Namespace) -> SiliconFlow:
    return SiliconFlow(api_key=args.api_key, base_url=args.base_url, max_retries=args.max_retries)


def _metadata(pairs: Sequence[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputValidationError("bad --metadata", [Problem("metadata", f"expected key=value, got {pair!r}")])
        result[key] = value
    return result


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
        ("created", batch.created_at_datetime.isoformat()),
    ]
    rows += [("error", message) for message in batch.error_messages()]
    return "\n".join(f"{name:<12} {value}" for name, value in rows)


def _table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [["-" if c is None or isinstance(c, Unset) else str(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def _iso(timestamp: int | None) -> str | None:
    return None if timestamp is None else datetime.fromtimestamp(timestamp, UTC).isoformat()


def _report_text(report: ValidationReport) -> str:
    if report.ok:
        models = ", ".join(sorted(report.models)) or "-"
        return f"{report.path}: OK, {report.line_count} requests, model {models}"
    lines = [f"{report.path}: {len(report.problems)} problem(s)"]
    lines += [f"  {problem}" for problem in report.problems]
    return "\n".join(lines)


def _report_dict(report: ValidationReport) -> dict[str, Any]:
    return {
        "path": str(report.path),
        "ok": report.ok,
        "requests": report.line_count,
        "models": sorted(report.models),
        "problems": [{"line": p.line, "field": p.field, "message": p.message} for p in report.problems],
    }


def _result_dict(result: BatchResult) -> dict[str, Any]:
    return {
        "custom_id": result.custom_id,
        "ok": result.ok,
        "status_code": result.status_code,
        "source": result.source,
        "content": result.content,
        "error": result.error,
        "response": result.response,
    }


def _terminal_code(batch: Batch) -> int:
    return OK if batch.status == "completed" else FAILED


# --- commands ------------------------------------------------------------------------------------------------


def cmd_validate(args: argparse.Namespace, out: _Output) -> int:
    report = validate_requests(args.file, replace_model=args.model)
    out.data(_report_dict(report), lambda: _report_text(report))
    return OK if report.ok else USAGE


def cmd_upload(args: argparse.Namespace, out: _Output) -> int:
    with _client(args) as client:
        file = client.files.upload(args.file, validate=not args.no_validate, replace_model=args.model)
    out.data(_file_dict(file), lambda: f"uploaded {file.filename} as {file.id} ({file.bytes} bytes)")
    return OK


def cmd_create(args: argparse.Namespace, out: _Output) -> int:
    with _client(args) as client:
        batch = client.batches.create(
            input_file_id=args.input_file_id,
            completion_window=args.window,
            metadata=_metadata(args.metadata),
            replace_model=args.model,
        )
    _show(out, batch)
    return OK


def cmd_submit(args: argparse.Namespace, out: _Output) -> int:
    metadata = _metadata(args.metadata)
    report = validate_requests(args.file, replace_model=args.model)
    if not report.ok:
        out.data(_report_dict(report), lambda: _report_text(report))
        return USAGE
    with _client(args) as client:
        file = client.files.upload(args.file, validate=False)
        out.note(f"uploaded {file.filename} as {file.id} ({report.line_count} requests)")
        batch = client.batches.create(
            input_file_id=file.id, completion_window=args.window, metadata=metadata, replace_model=args.model
        )
        out.note(f"created batch {batch.id} ({batch.status})")
        args.batch_id = batch.id  # for the resume hint if interrupted
        if not args.wait:
            _show(out, batch)
            return OK
        batch = _wait(client, batch.id, args, out)
        saved = _save_results(client, batch, Path(args.output), report.custom_ids, out) if args.output else {}
    out.data(
        {"batch": batch.to_dict(), "files": {k: str(v) for k, v in saved.items()}},
        lambda: _batch_text(batch) + "".join(f"\n{k:<12} {v}" for k, v in saved.items()),
    )
    return _terminal_code(batch)


def _wait(client: SiliconFlow, batch_id: str, args: argparse.Namespace, out: _Output) -> Batch:
    started = time.monotonic()
    try:
        batch = client.batches.wait(
            batch_id,
            poll_interval=args.poll_interval,
            timeout=args.timeout,
            on_update=lambda b: out.progress(b, started),
        )
    finally:
        out.close_bar()
    return batch


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
    count = _write_results(client.batches.results(batch, expected_ids=expected or None), results)
    saved["results"] = results
    out.note(f"wrote {count} results to {results}")
    return saved


def _write_results(results: Any, path: Path) -> int:
    temp = path.with_name(f".{path.name}.part")
    count = 0
    try:
        with temp.open("w", encoding="utf-8") as handle:
            for result in results:
                handle.write(json.dumps(_result_dict(result), ensure_ascii=False) + "\n")
                count += 1
        temp.replace(path)
    finally:
        temp.unlink(missing_ok=True)
    return count


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
    rows = [
        (b.id, str(b.status), "{1}/{0}".format(*b.counts), b.created_at_datetime.isoformat(), b.file_name)
        for b in items
    ]
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
    return _terminal_code(batch)


def cmd_results(args: argparse.Namespace, out: _Output) -> int:
    with _client(args) as client:
        results = client.batches.results(args.batch_id, skip_bad_lines=args.skip_bad_lines)
        if args.output:
            count = _write_results(results, Path(args.output))
            out.data({"results": count, "path": args.output}, lambda: f"wrote {count} results to {args.output}")
            return OK
        if out.as_json:
            for result in results:
                print(json.dumps(_result_dict(result), ensure_ascii=False), file=out.stream)
            return OK
        for result in results:
            text = result.content if result.ok else json.dumps(result.error or result.body)
            print(f"{result.custom_id}\t{'ok' if result.ok else 'FAILED'}\t{(text or '')[:100]}", file=out.stream)
    return OK


def cmd_files(args: argparse.Namespace, out: _Output) -> int:
    with _client(args) as client:
        files = client.files.list(limit=args.limit)
    rows = [(f.id, f.filename, f.bytes, f.line_count, _iso(f.created_at)) for f in files]
    out.data(
        [_file_dict(f) for f in files],
        lambda: _table(["id", "filename", "bytes", "lines", "created"], rows) if rows else "no files",
    )
    return OK


def cmd_emulator(args: argparse.Namespace, out: _Output) -> int:
    from .testing import Emulator, Faults

    faults = Faults(rate=args.fault_rate, seed=args.seed)
    emulator = Emulator(
        api_key=args.emulator_key, stage_seconds=args.stage_seconds, state_dir=args.state_dir, faults=faults
    )
    with emulator.serve(port=args.port, host=args.host) as server:
        out.note(f"emulator listening on {server.url} (API key {args.emulator_key!r}); Ctrl-C stops it")
        print(server.url, file=out.stream, flush=True)
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


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--base-url", default=None, help="API base URL (default: $SILICONFLOW_BASE_URL or the vendor's)"
    )
    common.add_argument("--api-key", default=None, help="API key (default: $SILICONFLOW_API_KEY)")
    common.add_argument("--json", action="store_true", help="print JSON for scripts instead of text")
    common.add_argument("--max-retries", type=int, default=2, help="retries of a failed request (default 2)")

    parser = argparse.ArgumentParser(
        prog="siliconflow-batch",
        description=__doc__.split("\n\n")[0],
        parents=[common],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=_version_text())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def command(name: str, handler: Callable[..., int], help: str) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, parents=[common])
        sub.set_defaults(handler=handler)
        return sub

    def waiting(sub: argparse.ArgumentParser) -> None:
        sub.add_argument("--poll-interval", type=float, default=30.0, help="seconds between polls (default 30)")
        sub.add_argument("--timeout", type=float, default=None, help="give up after this many seconds")

    sub = command("validate", cmd_validate, "check a batch input file without sending it")
    sub.add_argument("file")
    sub.add_argument("--model", help="the model the batch will use for every request (replace_model)")

    sub = command("upload", cmd_upload, "validate and upload a batch input file")
    sub.add_argument("file")
    sub.add_argument("--model", help="the model the batch will use for every request (replace_model)")
    sub.add_argument("--no-validate", action="store_true", help="skip client-side validation")

    sub = command("create", cmd_create, "create a batch over an uploaded file")
    sub.add_argument("--input-file-id", required=True)
    sub.add_argument("--window", default="24h", help="completion window, 24h..336h (default 24h)")
    sub.add_argument("--metadata", nargs="*", metavar="KEY=VALUE")
    sub.add_argument("--model", help="run every request on this model (replace.model)")

    sub = command("submit", cmd_submit, "validate, upload and create a batch; with --wait, follow it to the end")
    sub.add_argument("file")
    sub.add_argument("--model", help="run every request on this model (replace.model)")
    sub.add_argument("--window", default="24h", help="completion window, 24h..336h (default 24h)")
    sub.add_argument("--metadata", nargs="*", metavar="KEY=VALUE")
    sub.add_argument("--wait", action="store_true", help="wait until the batch ends")
    sub.add_argument("--output", metavar="DIR", help="with --wait: save output, errors and results here")
    waiting(sub)

    sub = command("get", cmd_get, "show a batch")
    sub.add_argument("batch_id")

    sub = command("list", cmd_list, "list batches (the first page, or --all)")
    sub.add_argument("--limit", type=int, default=20)
    sub.add_argument("--all", action="store_true", help="follow every page")

    sub = command("cancel", cmd_cancel, "cancel a batch")
    sub.add_argument("batch_id")

    sub = command("wait", cmd_wait, "wait until a batch ends, showing progress")
    sub.add_argument("batch_id")
    waiting(sub)

    sub = command("results", cmd_results, "print or save a batch's results")
    sub.add_argument("batch_id")
    sub.add_argument("--output", metavar="FILE", help="write the results as JSONL to FILE")
    sub.add_argument("--skip-bad-lines", action="store_true", help="skip malformed result lines")

    sub = command("files", cmd_files, "list uploaded batch files")
    sub.add_argument("--limit", type=int, default=None)

    sub = command("emulator", cmd_emulator, "run the local emulator of the API on 127.0.0.1")
    sub.add_argument("--port", type=int, default=8000)
    sub.add_argument("--host", default="127.0.0.1")
    sub.add_argument(
        "--emulator-key",
        default=os.environ.get("SILICONFLOW_API_KEY") or "sk-emulator",
        help="the key the emulator accepts (default: $SILICONFLOW_API_KEY or sk-emulator)",
    )
    sub.add_argument("--stage-seconds", type=float, default=1.0, help="how long each batch stage lasts")
    sub.add_argument("--state-dir", default=None, help="keep state in this directory instead of memory")
    sub.add_argument("--fault-rate", type=float, default=0.0, help="inject faults into this share of requests")
    sub.add_argument("--seed", type=int, default=0, help="seed of the fault injection")
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the command line; return its exit code."""
    args = _parser().parse_args(argv)
    out = _Output(args.json, stdout or sys.stdout, stderr or sys.stderr)
    try:
        code: int = args.handler(args, out)
        return code
    except InputValidationError as error:
        out.note(f"error: {error}")
        return USAGE
    except KeyboardInterrupt:
        out.close_bar()
        batch_id = getattr(args, "batch_id", None)
        resume = f"; resume with: siliconflow-batch wait {batch_id}" if batch_id else ""
        out.note(f"interrupted: the batch keeps running on the server{resume}")
        return INTERRUPTED
    except SiliconFlowError as error:
        out.note(f"error: {error}")
        return FAILED


def run() -> None:
    """Console-script entry point."""
    try:
        code = main()
        sys.stdout.flush()
    except BrokenPipeError:  # the reader went away (say `| head`): stop quietly, as the Python docs advise
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        code = FAILED
    sys.exit(code)
