"""Reading batch result files: bytes to lines, lines to BatchResults, and accounting for every request once."""

from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any, Literal

from ._exceptions import SiliconFlowError
from ._http import logger
from ._records import BatchResult

__all__ = [
    "MISSING_RESULT",
    "Accountant",
    "ResultLineError",
    "Splitter",
    "loads_object",
    "parse_result_line",
    "result_members",
]

Source = Literal["output", "error"]
# The error of a request that neither result file answers (a ``source="missing"`` result).
MISSING_RESULT = {"code": "missing_result", "message": "neither the output nor the error file has it"}


class ResultLineError(SiliconFlowError):
    """A line of a result file is not a result: ``source`` and ``line`` say which."""

    def __init__(self, source: str, line: int, reason: str) -> None:
        super().__init__(f"{source} file, line {line}: {reason}")
        self.source = source
        self.line = line
        self.reason = reason


class Splitter:
    """Bytes to lines in linear time: a line longer than a chunk is joined once, not re-scanned per chunk."""

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def feed(self, chunk: bytes) -> list[bytes]:
        lines = chunk.split(b"\n")
        if len(lines) == 1:
            self._parts.append(chunk)
            return []
        if self._parts:
            self._parts.append(lines[0])
            lines[0] = b"".join(self._parts)
        tail = lines.pop()
        self._parts = [tail] if tail else []
        return lines

    def end(self) -> list[bytes]:
        tail = b"".join(self._parts)
        self._parts = []
        return [tail] if tail else []


_decode_json = json.JSONDecoder().decode
_scan_value = json.JSONDecoder().scan_once  # type: ignore[attr-defined]  # the C scanner: (value, end) at an index
_SPACE = re.compile(r"[ \t\n\r]*")
_BOM = b"\xef\xbb\xbf"


def loads_object(text: str) -> Any:
    """``json.loads(text)``: for a line that is an object from its first character, by the C scanner alone."""
    if text[:1] == "{":
        try:
            value, end = _scan_value(text, 0)
        except Exception:  # json.loads, below, says what is wrong, in its words
            value, end = None, -1
        if end == len(text) or (end > 0 and _SPACE.match(text, end).end() == len(text)):  # type: ignore[union-attr]
            return value
    return _decode_json(text)


def parse_result_line(raw: bytes, number: int, source: Source) -> BatchResult | None:
    """One result line as a BatchResult (None for a blank line); a malformed line raises ResultLineError."""
    if number == 1 and raw.startswith(_BOM):  # written by a tool that marks UTF-8 files
        raw = raw[len(_BOM) :]
    try:
        # Decoding first skips json.loads' encoding detection, a measurable share of a 1 GB file's time.
        text = raw.decode("utf-8")
        if text[:1] != "{" and (not text or text.isspace()):  # a blank line is tested for only when it may be one
            return None
        data = loads_object(text)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError is a ValueError
        raise ResultLineError(source, number, f"not valid JSON ({exc})") from exc
    if type(data) is not dict:
        raise ResultLineError(source, number, f"expected an object, got {type(data).__name__}")
    custom_id = data.get("custom_id")
    if type(custom_id) is int:  # a server that turned "42" into 42: the input's id is still its digits
        custom_id = str(custom_id)
    if type(custom_id) is not str or not custom_id:
        raise ResultLineError(source, number, "custom_id is missing or not a string")
    response, error, line_id = data.get("response"), data.get("error"), data.get("id")
    if response is not None and type(response) is not dict:
        raise ResultLineError(source, number, f"response must be an object or null, got {type(response).__name__}")
    if error is not None and type(error) is not dict:
        error = {"message": str(error)}
    # tuple.__new__ straight, not the NamedTuple's generated __new__: a Python call less on every line of a file.
    fields = (custom_id, response, error, line_id if type(line_id) is str else None, source, number, *_UNREAD)
    return _new_tuple(BatchResult, fields)


# The fields after ``line``, at their defaults, as BatchResult itself states them.
_UNREAD = tuple(
    BatchResult._field_defaults[name] for name in BatchResult._fields[BatchResult._fields.index("line") + 1 :]
)
_new_tuple = tuple.__new__


_MEMBER = re.compile(r'[ \t\n\r]*"([^"\\]*)"[ \t\n\r]*:[ \t\n\r]*')  # a member's name, without escapes
_AFTER = re.compile(r"[ \t\n\r]*([,}])")


# The vendor's layout of a good line, as OpenAI's: ``{"id": "...", "custom_id": "...", "response": {...},
# "error": null}``, names and ids without escapes. Read with one scan, of the response; any other line is read
# member by member. A JSON string holds no unescaped quote, so these cannot match inside one.
_W = r"[ \t\n\r]*"
_PLAIN = r'[^"\\\x00-\x1f]'  # a character a JSON string holds as it is: no quote, escape or control character
_VENDOR_HEAD = re.compile(
    rf'{_W}\{{{_W}(?:"id"{_W}:{_W}"({_PLAIN}*)"{_W},{_W})?"custom_id"{_W}:{_W}"({_PLAIN}+)"{_W},{_W}"response"{_W}:{_W}'
)
_VENDOR_TAIL = re.compile(rf'{_W},{_W}"error"{_W}:{_W}null{_W}\}}{_W}\Z')


def _vendor_layout(text: str) -> tuple[BatchResult, tuple[int, int]] | None:
    head = _VENDOR_HEAD.match(text)
    if head is None:
        return None
    begin = head.end()
    try:
        response, end = _scan_value(text, begin)
    except (ValueError, StopIteration, RecursionError):
        return None
    if type(response) is not dict or _VENDOR_TAIL.match(text, end) is None:
        return None
    return BatchResult(head.group(2), response, None, head.group(1)), (begin, end)


def result_members(text: str) -> tuple[BatchResult, tuple[int, int]] | None:
    """The result a line gives (as :func:`parse_result_line`), and where its ``response`` value is in ``text``.

    For a writer that copies the response's text instead of dumping it again. None for a line of any other shape
    (a name with an escape, a name given twice, no response, a malformed line): the caller parses it as usual.
    """
    vendor = _vendor_layout(text)
    if vendor is not None:
        return vendor
    start = _SPACE.match(text).end()  # type: ignore[union-attr]  # always matches
    if text[start : start + 1] != "{":
        return None
    found: dict[str, Any] = {}
    span = None
    index = start + 1
    try:
        while True:
            member = _MEMBER.match(text, index)
            if member is None:
                return None
            name, begin = member.group(1), member.end()
            value, end = _scan_value(text, begin)
            if name in found:
                return None
            found[name] = value
            if name == "response":
                span = (begin, end)
            after = _AFTER.match(text, end)
            if after is None:
                return None
            index = after.end()
            if after.group(1) == "}":
                break
    except (ValueError, StopIteration, RecursionError):
        return None
    if span is None or _SPACE.match(text, index).end() != len(text):  # type: ignore[union-attr]
        return None
    custom_id, response, error, line_id = found.get("custom_id"), found["response"], found.get("error"), found.get("id")
    if type(custom_id) is int:  # as parse_result_line reads it
        custom_id = str(custom_id)
    if type(custom_id) is not str or not custom_id or (response is not None and type(response) is not dict):
        return None
    if error is not None and type(error) is not dict:
        error = {"message": str(error)}
    return BatchResult(custom_id, response, error, line_id if type(line_id) is str else None), span


class Accountant:
    """Lets each custom_id through once and, given the input's ids, reports the ones with no result."""

    def __init__(self, expected_ids: Iterable[str] | None) -> None:
        self._expected = list(dict.fromkeys(expected_ids)) if expected_ids is not None else None
        # The ids seen: those that came in rising order, kept in that order (a list: no hashing, no table to grow
        # and miss in the cache, a tenth of a results file's time otherwise), and the others in a set.
        self._rising: list[str] = []
        self._top = ""  # the last of _rising: every id seen is at most this
        self._seen: set[str] = set()

    def first(self, result: BatchResult) -> bool:
        """True the first time a custom_id shows up; a repeat is logged and dropped."""
        custom_id = result.custom_id
        if custom_id > self._top:  # above every id seen: new (a file in its input's order comes this way)
            self._top = custom_id
            self._rising.append(custom_id)
            return True
        if custom_id not in self._seen and not self._rose_through(custom_id):
            self._seen.add(custom_id)
            return True
        logger.warning(
            "%s file, line %s: a second result for custom_id %r was ignored", result.source, result.line, custom_id
        )
        return False

    def _rose_through(self, custom_id: str) -> bool:
        """Whether ``custom_id`` is among the ids that came in rising order (a binary search: the list is sorted)."""
        at = bisect.bisect_left(self._rising, custom_id)
        return at < len(self._rising) and self._rising[at] == custom_id

    def missing(self) -> Iterator[BatchResult]:
        """A ``source="missing"`` result for every expected custom_id that neither file answered."""
        seen = self._seen.union(self._rising) if self._expected else self._seen  # every id seen, one lookup each
        for custom_id in self._expected or ():
            if custom_id not in seen:
                yield BatchResult(
                    custom_id=custom_id,
                    response=None,
                    error=dict(MISSING_RESULT),
                    source="missing",
                )
