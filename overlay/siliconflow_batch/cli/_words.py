"""The command line's words: its flags for the library's parameter names, and validation reports as text."""

from __future__ import annotations

from typing import Any

from .._exceptions import InputValidationError
from .._problem import Problem
from ..validation import ValidationReport
from ._output import plural

__all__ = ["FLAGS", "flagged", "in_cli_words", "problem_text", "report_dict", "report_text"]

# The library speaks Python (its keyword arguments); the command line names its own flags instead.
_CLI_WORDS = {
    "pass partial=True": "give --partial",
    "pass api_key=... or set SILICONFLOW_API_KEY": "give --api-key or set SILICONFLOW_API_KEY",
}


# The library's parameter names, as the command's flags.
FLAGS = {
    "completion_window": "--window",
    "replace_model": "--model",
    "input_file_id": "--input-file-id",
    "idempotency_key": "--idempotency-key",
    "metadata": "--metadata",
    "max_attempts": "--max-attempts",
    "max_shard_lines": "--shard-lines",
    "max_cost": "--max-cost",
    "schema": "--schema",
    "resubmit_invalid": "--resubmit-invalid",
    "max_outage": "--max-outage",
    "poll_interval": "--poll-interval",
    "max_poll_interval": "--max-poll-interval",
    "timeout": "--timeout",
}


def flagged(error: InputValidationError) -> InputValidationError:
    """The error with each problem's field named as the command's flag (``--window``, not completion_window)."""

    def flag(problem: Problem) -> str:  # a problem at a line of the input is about the file, not a flag
        name, sep, rest = problem.field.partition("[")
        return FLAGS[name] + sep + rest if name in FLAGS and problem.line is None else problem.field

    if not any(flag(p) != p.field for p in error.problems):
        return error
    return InputValidationError(error.subject, [Problem(flag(p), p.message, p.line) for p in error.problems])


def in_cli_words(text: str) -> str:
    """A message of the library in the command line's words: its flags, not Python's keyword arguments."""
    for python, flag in _CLI_WORDS.items():
        text = text.replace(python, flag)
    return text


def report_text(report: ValidationReport) -> str:
    if report.ok:
        models = ", ".join(sorted(report.models)) or "-"
        return f"{report.path}: OK, {plural(report.line_count, 'request')}, model {models}"
    lines = [f"{report.path}: {plural(len(report.problems), 'problem')}"]
    lines += [f"  {in_cli_words(problem_text(problem))}" for problem in report.problems]
    return "\n".join(lines)


def problem_text(problem: Problem) -> str:
    """``line 3: custom_id: ...``; a problem of the line as a whole reads ``line 3: is not valid JSON``."""
    if problem.field == "line" and problem.line is not None:
        return f"line {problem.line}: {problem.message}"
    return str(problem)


def report_dict(report: ValidationReport) -> dict[str, Any]:
    return {
        "path": str(report.path),
        "ok": report.ok,
        "requests": report.line_count,
        "models": sorted(report.models),
        "problems": [{"line": p.line, "field": p.field, "message": in_cli_words(p.message)} for p in report.problems],
    }
