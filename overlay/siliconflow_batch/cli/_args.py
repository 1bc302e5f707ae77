"""What the commands share: their common options, argument types, option groups, the client and the create."""

from __future__ import annotations

import argparse
import json
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from decimal import Decimal
from typing import TYPE_CHECKING, Any, NoReturn

from .._batch_logic import create_key, keyed, name_the_key
from .._defaults import DEFAULT_COMPLETION_WINDOW, DEFAULT_MAX_OUTAGE, DEFAULT_MAX_RETRIES, DEFAULT_POLL_INTERVAL
from .._exceptions import InputValidationError
from .._problem import Problem
from .._sync.client import SiliconFlow

if TYPE_CHECKING:
    from .._async.client import AsyncSiliconFlow
from ..validation import CHAT_COMPLETIONS, MAX_METADATA_PAIRS, MAX_WINDOW_HOURS, MIN_WINDOW_HOURS, validate_create
from ._output import USAGE, Output

__all__ = [
    "COMMON_DEFAULTS",
    "AddCommand",
    "Handler",
    "Parser",
    "add_common",
    "bounded_int",
    "client_for",
    "create_args",
    "creating",
    "fail_on_errors",
    "keyed_creating",
    "metadata_pairs",
    "non_negative",
    "options_given",
    "share",
    "waiting",
    "yuan",
]

Handler = Callable[[argparse.Namespace, Output], int]
AddCommand = Callable[..., argparse.ArgumentParser]
"""``add(name, handler, help, sends=True)``: a new command's parser (see ``_main.build_parser``)."""


def client_for(args: argparse.Namespace) -> SiliconFlow:
    """The sync client the command's options describe (a missing key is a mistake of the command)."""
    _check_key(args)
    return SiliconFlow(api_key=args.api_key, base_url=args.base_url, max_retries=args.max_retries)


def async_client_for(args: argparse.Namespace) -> AsyncSiliconFlow:
    """The async client the command's options describe: for a job's commands, which send and download at once."""
    from .._async.client import AsyncSiliconFlow

    _check_key(args)
    return AsyncSiliconFlow(api_key=args.api_key, base_url=args.base_url, max_retries=args.max_retries)


def _check_key(args: argparse.Namespace) -> None:
    key = args.api_key if args.api_key is not None else os.environ.get("SILICONFLOW_API_KEY")
    if not (key or "").strip():  # a mistake of the command, before anything is sent
        problem = Problem("--api-key", "none given: give --api-key or set SILICONFLOW_API_KEY")
        raise InputValidationError("nothing was sent", [problem])


def metadata_pairs(pairs: Sequence[str] | None) -> dict[str, str] | None:
    if not pairs:
        return None
    result = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key:
            raise InputValidationError("bad --metadata", [Problem("--metadata", f"expected KEY=VALUE, got {pair!r}")])
        result[key] = value
    return result


def create_args(args: argparse.Namespace) -> dict[str, Any]:
    """The create parameters from the command line, checked before anything is sent (or uploaded).

    For ``create`` and ``submit`` (the commands with ``--idempotency-key``), the metadata is checked as it
    will be sent, with the key (``--idempotency-key``'s, or the one the client makes for the call).
    """
    metadata = metadata_pairs(args.metadata)
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


def non_negative(value: str) -> float:
    try:
        number = float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, got {value!r}") from None
    if not math.isfinite(number) or number < 0:
        raise argparse.ArgumentTypeError(f"must be a number >= 0, got {value!r}")
    return number


def yuan(value: str) -> Decimal:
    """``--max-cost``: a number of yuan >= 0 (a bad one is exit 2, naming the flag)."""
    from .._jobs.settings import checked_max_cost  # the job machinery loads when a job command runs

    cap, problem = checked_max_cost(value)
    if problem is not None or cap is None:
        raise argparse.ArgumentTypeError(f"must be a number of yuan >= 0, got {value!r}")
    return Decimal(cap)


def bounded_int(low: int, high: int | None = None) -> Callable[[str], int]:
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


def share(value: str) -> float:
    number = non_negative(value)
    if number > 1:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value!r}")
    return number


def add_common(parser: argparse.ArgumentParser, *, suppress: bool, sends: bool = True) -> None:
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
        type=bounded_int(0),
        default=default(DEFAULT_MAX_RETRIES),
        help=shown(f"retries of a failed request (default {DEFAULT_MAX_RETRIES})"),
    )


class Parser(argparse.ArgumentParser):
    """argparse, whose usage errors are one JSON object on stderr when --json is given."""

    json_errors = False

    def error(self, message: str) -> NoReturn:
        if Parser.json_errors:
            print(json.dumps({"error": f"{self.prog}: {message}", "exit_code": USAGE}), file=sys.stderr)
            sys.exit(USAGE)
        super().error(message)


# The options every command takes, and their defaults as the top-level parser has them.
COMMON_DEFAULTS: dict[str, Any] = {"base_url": None, "api_key": None, "json": False, "max_retries": DEFAULT_MAX_RETRIES}


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
        default = COMMON_DEFAULTS.get(dest, action.default) if action.default is argparse.SUPPRESS else action.default
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


def waiting(sub: argparse.ArgumentParser) -> None:
    """The options of a command that follows a batch or a job until it ends."""
    sub.add_argument(
        "--poll-interval", type=non_negative, default=DEFAULT_POLL_INTERVAL,
        help=f"seconds between polls (default {DEFAULT_POLL_INTERVAL:g})",
    )  # fmt: skip
    sub.add_argument("--timeout", type=non_negative, default=None, help="give up after this many seconds")
    sub.add_argument(
        "--max-poll-interval",
        type=non_negative,
        default=None,
        help="stretch the poll interval while nothing changes, up to this many seconds (default: fixed)",
    )
    sub.add_argument(
        "--max-outage",
        type=non_negative,
        default=DEFAULT_MAX_OUTAGE,
        help=f"give up once polls have failed this many seconds in a row (default {DEFAULT_MAX_OUTAGE:g})",
    )


def fail_on_errors(sub: argparse.ArgumentParser, when: str = "") -> None:
    """``--fail-on-errors``: exit 1 when any request ended failed."""
    sub.add_argument(
        "--fail-on-errors", action="store_true", help=f"{when}exit 1 when any request ended failed (default: 0)"
    )


def creating(sub: argparse.ArgumentParser, pairs: str = "at most 16") -> None:
    """The options of a command that creates batches: model, window, metadata."""
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
    """:func:`creating`, and ``--idempotency-key`` (``create`` and ``submit``)."""
    creating(sub, pairs=f"at most {MAX_METADATA_PAIRS - 1}: the idempotency key takes one of {MAX_METADATA_PAIRS}")
    sub.add_argument(
        "--idempotency-key",
        metavar="KEY",
        help="kept in the batch's metadata: running the command again with the same KEY returns the batch "
        "already created instead of making a second (default: a key made for this call, which still "
        "resolves a failed create by looking it up)",
    )
