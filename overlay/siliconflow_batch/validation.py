"""Client-side validation: every problem with its line and limit, found before anything is sent or billed."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO

from attrs import define, field

from ._defaults import READ_BUFFER
from ._exceptions import InputValidationError
from ._model import JSONModel
from ._problem import Problem

if TYPE_CHECKING:
    from ._long_line import Scanned

__all__ = [
    "CHAT_COMPLETIONS",
    "MAX_FILE_BYTES",
    "MAX_LINES",
    "MAX_METADATA_KEY",
    "MAX_METADATA_PAIRS",
    "MAX_METADATA_VALUE",
    "MIN_PAGE_LIMIT",
    "WINDOW",
    "LineChecker",
    "OnRequest",
    "ValidationReport",
    "read_requests",
    "validate_create",
    "validate_requests",
]

CHAT_COMPLETIONS = "/v1/chat/completions"
MAX_FILE_BYTES = 1024**3
MAX_LINES = 5000
MAX_METADATA_PAIRS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512
MIN_PAGE_LIMIT = 1  # the list routes' `limit` minimum (spec/openapi.yaml; a test holds them equal)
MIN_WINDOW_HOURS = 24
MAX_WINDOW_HOURS = 336
# Not a limit (the vendor's is on the file: 1 GB): the longest line read whole. A longer one is checked in pieces
# of bounded size (``_long_line``), so that checking a file never holds much more than this.
MAX_LINE_BYTES = 32 * 1024**2
ROLES = frozenset({"system", "user", "assistant"})
WINDOW = re.compile(r"([0-9]+)h")  # ASCII digits only: "٢٤h" is not a window the server reads


@define
class ValidationReport(JSONModel):
    """What :func:`validate_requests` found: the problems, and facts about a file that passed."""

    path: Path
    problems: list[Problem] = field(factory=list)
    line_count: int = 0
    models: dict[str, int] = field(factory=dict)
    """Each model named in ``body.model``, with the first line that names it."""
    custom_ids: list[str] = field(factory=list)

    @property
    def ok(self) -> bool:
        """True when no problem was found."""
        return not self.problems

    def raise_for_problems(self) -> None:
        """Raise :class:`InputValidationError` listing every problem, if there is one."""
        if self.problems:
            raise InputValidationError(f"{self.path} is not a valid batch input file", self.problems)


def validate_requests(
    path: str | os.PathLike[str], *, endpoint: str = CHAT_COMPLETIONS, replace_model: str | None = None
) -> ValidationReport:
    """Check a batch input JSONL file against the API's rules and return a report of every problem.

    The vendor's rules: at most 1 GB and 5000 requests; each line a JSON object with a unique non-empty
    ``custom_id`` and ``body.messages``, a non-empty list of system, user and assistant messages ending with a
    user message. ``method``, ``url`` and ``body.model`` may be left out; when present they must be POST,
    ``endpoint`` and a model name, with one ``body.model`` across the file unless ``replace_model`` (which the
    batch will use instead) is given. A line of any length is checked; one over ``MAX_LINE_BYTES`` is read in
    pieces, in bounded memory.
    """
    return read_requests(path, endpoint=endpoint, replace_model=replace_model)


OnRequest = Callable[[int, dict[str, Any]], object]
"""What :func:`read_requests` hands each good line to: its number and the line, parsed."""


def read_requests(
    path: str | os.PathLike[str],
    *,
    endpoint: str = CHAT_COMPLETIONS,
    replace_model: str | None = None,
    each: OnRequest | None = None,
) -> ValidationReport:
    """:func:`validate_requests`, handing ``each`` every good line: its number, and the line as parsed to check it.

    So a reader that needs the lines too (a job's cut, which estimates each one) parses them once. A line over
    ``MAX_LINE_BYTES`` is never parsed whole, so it is not handed over.
    """
    report = ValidationReport(Path(path))
    problems = report.problems
    try:
        handle = report.path.open("rb", buffering=READ_BUFFER)
    except IsADirectoryError:
        problems.append(Problem("file", "is a directory, not a file"))
        return report
    except OSError as exc:
        problems.append(Problem("file", f"cannot be read: {exc.strerror or exc}"))
        return report
    with handle:
        size = os.fstat(handle.fileno()).st_size
        if size > MAX_FILE_BYTES:
            problems.append(Problem("file", f"is {size} bytes; the limit is {MAX_FILE_BYTES} bytes (1 GB)"))
            return report
        try:
            _check_lines(handle, endpoint, replace_model, report, each)
        except OSError as exc:  # a FIFO that breaks, a disk error, a directory on some systems
            problems.append(Problem("file", f"cannot be read: {exc.strerror or exc}"))
            return report
    if report.line_count == 0:
        problems.append(Problem("file", "holds no requests"))
    if report.line_count > MAX_LINES:
        problems.append(Problem("file", f"holds {report.line_count} requests; the limit is {MAX_LINES}"))
    if replace_model is None and len(report.models) > 1:
        found = ", ".join(f"{model} (line {line})" for model, line in sorted(report.models.items(), key=lambda i: i[1]))
        problems.append(
            Problem(
                "body.model",
                f"must be the same on every line, found {len(report.models)}: {found}; "
                "or give a replace model (replace_model= in Python, --model on the command line) to run all on one",
                line=sorted(report.models.values())[1],
            )
        )
    return report


def _check_lines(
    handle: BinaryIO, endpoint: str, replace_model: str | None, report: ValidationReport, each: OnRequest | None
) -> None:
    seen: dict[str, int] = {}
    passed = each if each is not None else _ignore
    long = False
    blank: int | None = None
    number = 0
    limit = MAX_LINE_BYTES
    readline = handle.readline
    while raw := readline(limit + 1):
        number += 1
        if len(raw) > limit and not raw.endswith(b"\n"):  # too long to read whole: in pieces
            from ._long_line import scan_line

            scanned = scan_line(raw, handle)
            line, error, long = scanned.line, scanned.error, True
        elif blank is None and (parsed := _passes(raw, number, endpoint, seen, report)) is not None:
            passed(number, parsed)  # a good line: nothing to explain
            continue
        else:
            line, error, long = (None if not raw.strip() else raw), None, False
        if line is None:
            blank = blank or number
            continue
        if blank is not None:
            report.problems.append(Problem("line", "is empty; requests must be on consecutive lines", blank))
            blank = None
        report.line_count += 1
        if error is not None:
            report.problems.append(Problem("line", f"is not valid JSON ({error})", number))
        else:
            before = len(report.problems)
            parsed = _check_line(line, number, endpoint, replace_model, seen, report)
            if parsed is not None and not long and len(report.problems) == before:
                passed(number, parsed)


def _ignore(number: int, line: dict[str, Any]) -> None:
    """What a plain validation does with a good line: nothing."""


class LineChecker:
    """The checks :func:`validate_requests` makes of each line, one line at a time: a job checks its input so.

    What concerns a file as a whole is the caller's: a custom_id used twice, blank lines (give none), how many
    lines and bytes, one model across the lines. ``problems`` gathers every problem found, at the numbers given.
    """

    def __init__(self, *, endpoint: str = CHAT_COMPLETIONS, replace_model: str | None = None) -> None:
        """A checker of lines for ``endpoint``, for a batch that runs them on ``replace_model`` when given."""
        self.endpoint = endpoint
        self.replace_model = replace_model
        self.problems: list[Problem] = []
        self._report = ValidationReport(Path(), problems=self.problems)  # the per-file facts, dropped as they come

    def check(self, raw: bytes, number: int) -> dict[str, Any] | None:
        """The line (one line of a file, whole) parsed, if it is a good request; else None, its problems added."""
        self._report.custom_ids.clear()  # a per-file fact: one id at most is held
        parsed = _passes(raw, number, self.endpoint, {}, self._report)
        return parsed if parsed is not None else self._explain(raw, number)

    def check_scanned(self, scanned: Scanned, number: int) -> bool:
        """Whether a line read in pieces (``_long_line.scan_line``) is a good request; if not, its problems added."""
        if scanned.error is not None:
            self.problems.append(Problem("line", f"is not valid JSON ({scanned.error})", number))
            return False
        return self._explain(scanned.line, number) is not None

    def _explain(self, line: Any, number: int) -> dict[str, Any] | None:
        self._report.custom_ids.clear()
        before = len(self.problems)
        parsed = _check_line(line, number, self.endpoint, self.replace_model, {}, self._report)
        return parsed if len(self.problems) == before else None


# json.loads' own parser (the C scanner, with json.loads' defaults), called without the work json.loads does for
# every call on top of it; and the white space json.loads allows after the value (json.decoder.WHITESPACE).
_SCAN: Callable[[str, int], tuple[Any, int]] = json.JSONDecoder().scan_once  # type: ignore[attr-defined]
_SPACE_AFTER = re.compile(r"[ \t\n\r]*").match
_ROLE_NAMES = tuple(ROLES)  # compared, not hashed: a role that is a list is no role, not a TypeError
_ABSENT: Any = object()


def _passes(
    raw: bytes, number: int, endpoint: str, seen: dict[str, int], report: ValidationReport
) -> dict[str, Any] | None:
    """Record a line that ``_check_line`` would find no problem with, and give it parsed; else change nothing.

    The fast path of a good line: it is parsed as json.loads parses it, and only what a good line must be is
    checked. Any line it does not pass, whatever the reason, is left to ``_check_line`` to explain.
    """
    if raw[:1] != b"{" or raw[1:2] == b"\0":  # so json.loads would read it as UTF-8 (json.detect_encoding)
        return None
    try:
        text = raw.decode("utf-8", "surrogatepass")  # as json.loads decodes bytes
        line, end = _SCAN(text, 0)
    except Exception:  # not JSON, too deep, ...: _check_line says it as json.loads does
        return None
    size = len(text)
    if (
        end != size
        and not (end == size - 1 and text[end] == "\n")  # more than the line's end after the value
        and _SPACE_AFTER(text, end).end() != size  # type: ignore[union-attr]
    ):
        return None  # extra data
    custom_id = line.get("custom_id")  # the text begins with "{": line is a dict
    body = line.get("body")
    if (
        type(custom_id) is not str
        or not custom_id
        or custom_id in seen
        or line.get("method", "POST") != "POST"
        or line.get("url", endpoint) != endpoint
        or type(body) is not dict
    ):
        return None
    messages = body.get("messages")
    if type(messages) is not list or not messages:
        return None
    for message in messages:
        if type(message) is not dict or message.get("role") not in _ROLE_NAMES:
            return None
    if messages[-1]["role"] != "user":
        return None
    model = body.get("model", _ABSENT)
    if model is not _ABSENT:
        if type(model) is not str or not model:
            return None
        report.models.setdefault(model, number)
    seen[custom_id] = number
    report.custom_ids.append(custom_id)
    report.line_count += 1
    parsed: dict[str, Any] = line
    return parsed


def skip_line(handle: BinaryIO) -> int:
    """Read past the rest of a line in bounded pieces; return how many bytes it had."""
    skipped = 0
    while chunk := handle.readline(1024**2):
        skipped += len(chunk)
        if chunk.endswith(b"\n"):
            break
    return skipped


def _check_line(
    line: Any, number: int, endpoint: str, replace_model: str | None, seen: dict[str, int], report: ValidationReport
) -> dict[str, Any] | None:
    """Check one request (raw bytes, or what ``scan_line`` kept of a long one); give it parsed, if it is an object."""
    problems = report.problems
    if isinstance(line, bytes):
        try:
            line = json.loads(line)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            problems.append(Problem("line", f"is not valid JSON ({exc})", number))
            return None
    if not isinstance(line, dict):
        problems.append(Problem("line", f"must be a JSON object, not {type(line).__name__}", number))
        return None
    custom_id = line.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        problems.append(Problem("custom_id", "must be a non-empty string", number))
    elif custom_id in seen:
        problems.append(Problem("custom_id", f"{custom_id!r} is already used on line {seen[custom_id]}", number))
    else:
        seen[custom_id] = number
        report.custom_ids.append(custom_id)
    if "method" in line and line["method"] != "POST":  # optional, but right when given
        problems.append(Problem("method", f"must be 'POST', got {_short(line['method'])}", number))
    if "url" in line and line["url"] != endpoint:
        problems.append(Problem("url", f"must be {endpoint!r} (the batch endpoint), got {_short(line['url'])}", number))
    body = line.get("body")
    if not isinstance(body, dict):
        problems.append(Problem("body", "must be an object", number))
        return None
    _check_messages(body.get("messages"), number, problems)
    if "model" not in body:
        return line
    model = body["model"]
    if isinstance(model, str) and model:
        report.models.setdefault(model, number)
    elif replace_model is None:
        problems.append(Problem("body.model", f"must be a non-empty string when given, got {_short(model)}", number))
    return line


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _check_messages(messages: Any, number: int, problems: list[Problem]) -> None:
    """Check ``body.messages``: a list, or the :class:`Roles` that ``scan_line`` kept of a long line's."""
    if isinstance(messages, list):
        bad, last = [], None
        for index, message in enumerate(messages):
            last = message.get("role") if isinstance(message, dict) else None
            if not isinstance(last, str) or last not in ROLES:
                bad.append((index, last))
        count = len(messages)
    else:
        from ._long_line import Roles

        if not isinstance(messages, Roles):
            messages = Roles()
        count, bad, last = messages.count, messages.bad, messages.last
    if not count:
        problems.append(Problem("body.messages", "must be a non-empty list", number))
        return
    for index, role in bad:
        problems.append(
            Problem(f"body.messages[{index}].role", f"must be system, user or assistant, got {_short(role)}", number)
        )
    if isinstance(last, str) and last in ROLES and last != "user":
        problems.append(Problem("body.messages", f"must end with a user message, ends with {last!r}", number))


def validate_create(
    *,
    input_file_id: str,
    endpoint: str,
    completion_window: str,
    metadata: Mapping[str, str] | None,
    replace_model: str | None,
) -> list[Problem]:
    """Check the parameters of a batch create; return every problem (an empty list when they are fine)."""
    problems: list[Problem] = []
    if not isinstance(input_file_id, str) or not input_file_id.strip():
        problems.append(Problem("input_file_id", "must be a non-empty file id"))
    if endpoint != CHAT_COMPLETIONS:
        problems.append(Problem("endpoint", f"must be {CHAT_COMPLETIONS!r} (the only one supported), got {endpoint!r}"))
    match = WINDOW.fullmatch(completion_window) if isinstance(completion_window, str) else None
    if match is None or not MIN_WINDOW_HOURS <= int(match.group(1)) <= MAX_WINDOW_HOURS:
        problems.append(
            Problem(
                "completion_window",
                f"must be between {MIN_WINDOW_HOURS}h and {MAX_WINDOW_HOURS}h (like '24h'), got {completion_window!r}",
            )
        )
    if replace_model is not None and (not isinstance(replace_model, str) or not replace_model.strip()):
        problems.append(Problem("replace_model", "must be a non-empty model name when given"))
    if metadata is not None:
        problems.extend(_check_metadata(metadata))
    return problems


def _check_metadata(metadata: Mapping[str, Any]) -> list[Problem]:
    if not isinstance(metadata, Mapping):
        return [Problem("metadata", f"must be a mapping of strings, got {type(metadata).__name__}")]
    problems = []
    if len(metadata) > MAX_METADATA_PAIRS:
        problems.append(Problem("metadata", f"has {len(metadata)} pairs; the limit is {MAX_METADATA_PAIRS}"))
    for key, value in metadata.items():
        if not isinstance(key, str):
            problems.append(Problem("metadata", f"key {key!r} must be a string"))
        elif len(key) > MAX_METADATA_KEY:
            problems.append(
                Problem(f"metadata[{key[:20]!r}...]", f"key is {len(key)} characters; the limit is {MAX_METADATA_KEY}")
            )
        if not isinstance(value, str):
            problems.append(
                Problem(f"metadata[{str(key)[:64]!r}]", f"value must be a string, got {type(value).__name__}")
            )
        elif len(value) > MAX_METADATA_VALUE:
            problems.append(
                Problem(
                    f"metadata[{str(key)[:64]!r}]",
                    f"value is {len(value)} characters; the limit is {MAX_METADATA_VALUE}",
                )
            )
    return problems
