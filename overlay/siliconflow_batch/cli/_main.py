"""``main``: the parser of every command group, and the one place a command's errors become exit codes."""

from __future__ import annotations

import argparse
import os
import shlex
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from .._exceptions import (
    BatchNotFinishedError,
    InputValidationError,
    JobInputMismatchError,
    NotFoundError,
    SiliconFlowError,
)
from .._version import package_version
from . import batches, emulator, jobs
from ._args import Handler, Parser, add_common, options_given
from ._output import CLOSED_PIPE, FAILED, INTERRUPTED, TERMINATED, USAGE, Output
from ._words import flagged, in_cli_words

__all__ = ["DESCRIPTION", "build_parser", "main", "run"]

DESCRIPTION = "The siliconflow-batch command: validate, upload, submit, wait, fetch results, run jobs and the emulator."


def _version_text() -> str:
    from siliconflow_batch_generated._provenance import GENERATOR_VERSION, SPEC_SHA256

    return f"siliconflow-batch {package_version()} (spec sha256 {SPEC_SHA256}, {GENERATOR_VERSION})"


def build_parser() -> argparse.ArgumentParser:
    """The parser of every command: the common options, then each command group's ``register``."""
    common = Parser(add_help=False)
    add_common(common, suppress=True)

    parser = Parser(
        prog="siliconflow-batch",
        description=DESCRIPTION,
        epilog="Options such as --base-url and --json may come before or after the command.",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_common(parser, suppress=False)
    parser.add_argument("--version", action="version", version=_version_text())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    local = Parser(add_help=False)  # for a command that sends nothing: key, URL and retries not in its help
    add_common(local, suppress=True, sends=False)

    def command(name: str, handler: Handler, help: str, *, sends: bool = True) -> argparse.ArgumentParser:
        sub = commands.add_parser(name, help=help, description=help, parents=[common if sends else local])
        sub.set_defaults(handler=handler, parser=sub)
        return sub

    for group in (batches, jobs, emulator):
        group.register(command)
    return parser


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    """Run the command line; return its exit code."""
    words = list(sys.argv[1:] if argv is None else argv)
    Parser.json_errors = "--json" in words[: words.index("--") if "--" in words else None]
    args = build_parser().parse_args(words)
    out = Output(args.json, stdout or sys.stdout, stderr or sys.stderr)
    try:
        code: int = args.handler(args, out)
        return code
    except (InputValidationError, JobInputMismatchError) as error:
        if isinstance(error, InputValidationError):
            error = flagged(error)
        problems = error.problems if isinstance(error, InputValidationError) else ()
        return out.fail(in_cli_words(str(error)), USAGE, problems)
    except BatchNotFinishedError as error:
        return out.fail(in_cli_words(str(error)), FAILED)
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
        return out.fail(f"{in_cli_words(str(error))}{hint}{notes}", FAILED)


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
