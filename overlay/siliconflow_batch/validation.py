"""Client-side validation: every problem with its line and limit, found before anything is sent or billed."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ._exceptions import InputValidationError, Problem

__all__ = [
    "CHAT_COMPLETIONS",
    "MAX_FILE_BYTES",
    "MAX_LINES",
    "MAX_METADATA_KEY",
    "MAX_METADATA_PAIRS",
    "MAX_METADATA_VALUE",
    "ValidationReport",
    "validate_create",
    "validate_requests",
]

CHAT_COMPLETIONS = "/v1/chat/completions"
MAX_FILE_BYTES = 1024**3
MAX_LINES = 5000
MAX_METADATA_PAIRS = 16
MAX_METADATA_KEY = 64
MAX_METADATA_VALUE = 512
MIN_WINDOW_HOURS = 24
MAX_WINDOW_HOURS = 336
ROLES = frozenset({"system", "user", "assistant"})
_WINDOW = re.compile(r"(\d+)h")


@dataclass
class ValidationReport:
    """What :func:`validate_requests` found: the problems, and facts about a file that passed."""

    path: Path
    problems: list[Problem] = field(default_factory=list)
    line_count: int = 0
    models: set[str] = field(default_factory=set)
    custom_ids: list[str] = field(default_factory=list)

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

    Rules: at most 1 GB and 5000 requests; each line a JSON object with a unique non-empty ``custom_id``,
    ``method`` POST, ``url`` equal to ``endpoint``, ``body.messages`` a non-empty list of system, user and
    assistant messages ending with a user message, and one ``body.model`` across the file unless
    ``replace_model`` (which the batch will use instead) is given.
    """
    report = ValidationReport(Path(path))
    problems = report.problems
    try:
        size = report.path.stat().st_size
    except OSError as exc:
        problems.append(Problem("file", f"cannot be read: {exc.strerror or exc}"))
        return report
    if size > MAX_FILE_BYTES:
        problems.append(Problem("file", f"is {size} bytes; the limit is {MAX_FILE_BYTES} bytes (1 GB)"))
        return report
    seen: dict[str, int] = {}
    blank: int | None = None
    with report.path.open("rb") as handle:
        for number, raw in enumerate(handle, start=1):
            if not raw.strip():
                blank = blank or number
                continue
            if blank is not None:
                problems.append(Problem("line", "is empty; requests must be on consecutive lines", blank))
                blank = None
            report.line_count += 1
            _check_line(raw, number, endpoint, replace_model, seen, report)
    if report.line_count == 0:
        problems.append(Problem("file", "holds no requests"))
    if report.line_count > MAX_LINES:
        problems.append(Problem("file", f"holds {report.line_count} requests; the limit is {MAX_LINES}"))
    if replace_model is None and len(report.models) > 1:
        names = ", ".join(sorted(report.models))
        problems.append(
            Problem(
                "body.model",
                f"must be the same on every line, found {len(report.models)}: {names} "
                "(or pass replace_model to run them all on one model)",
            )
        )
    return report


def _check_line(
    raw: bytes, number: int, endpoint: str, replace_model: str | None, seen: dict[str, int], report: ValidationReport
) -> None:
    problems = report.problems
    try:
        line = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        problems.append(Problem("line", f"is not valid JSON ({exc})", number))
        return
    if not isinstance(line, dict):
        problems.append(Problem("line", f"must be a JSON object, not {type(line).__name__}", number))
        return
    custom_id = line.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        problems.append(Problem("custom_id", "must be a non-empty string", number))
    elif custom_id in seen:
        problems.append(Problem("custom_id", f"{custom_id!r} is already used on line {seen[custom_id]}", number))
    else:
        seen[custom_id] = number
        report.custom_ids.append(custom_id)
    if line.get("method") != "POST":
        problems.append(Problem("method", f"must be 'POST', got {line.get('method')!r}", number))
    if line.get("url") != endpoint:
        problems.append(Problem("url", f"must be {endpoint!r} (the batch endpoint), got {line.get('url')!r}", number))
    body = line.get("body")
    if not isinstance(body, dict):
        problems.append(Problem("body", "must be an object", number))
        return
    _check_messages(body.get("messages"), number, problems)
    model = body.get("model")
    if isinstance(model, str) and model:
        report.models.add(model)
    elif replace_model is None:
        problems.append(Problem("body.model", "must be a non-empty string (or pass replace_model)", number))


def _check_messages(messages: Any, number: int, problems: list[Problem]) -> None:
    if not isinstance(messages, list) or not messages:
        problems.append(Problem("body.messages", "must be a non-empty list", number))
        return
    for index, message in enumerate(messages):
        role = message.get("role") if isinstance(message, dict) else None
        if role not in ROLES:
            problems.append(
                Problem(f"body.messages[{index}].role", f"must be system, user or assistant, got {role!r}", number)
            )
    last = messages[-1]
    if isinstance(last, dict) and last.get("role") in ROLES and last.get("role") != "user":
        problems.append(Problem("body.messages", f"must end with a user message, ends with {last['role']!r}", number))


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
    match = _WINDOW.fullmatch(completion_window) if isinstance(completion_window, str) else None
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
