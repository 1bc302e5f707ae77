"""A request line too long to read whole, checked in pieces of bounded size (the vendor caps the file, not lines).

:func:`scan_line` reads the rest of a line a piece at a time, checks that it is one JSON value as ``json.loads``
would (UTF-8 included), and keeps only what the validator looks at: ``custom_id``, ``method``, ``url``, and in
``body`` its ``model`` and the roles of its ``messages``; and what bounds a request's output in the cost estimate
(``body.max_tokens``, ``n``, ``enable_thinking``). Everything else (the long contents) is read and dropped.
"""

from __future__ import annotations

import codecs
import hashlib
import json
import re
from collections.abc import Callable
from typing import Any, BinaryIO

__all__ = ["PIECE_BYTES", "ElidedString", "Roles", "Scanned", "scan_line"]

PIECE_BYTES = 1024**2  # the most read at once
KEEP_BYTES = 64 * 1024  # a kept value longer than this is named by its size (and a string by its SHA-256)
MAX_DEPTH = 10_000  # deeper nesting is refused, as Go's encoding/json refuses it
ROLES = frozenset({"system", "user", "assistant"})

_SPACE = re.compile(rb"[ \t\r\n]*")
_STRING = re.compile(rb'(?:[^"\\\x00-\x1f]+|\\["\\/bfnrt]|\\u[0-9a-fA-F]{4})*')
_NUMBER = re.compile(rb"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_WORDS = (b"true", b"false", b"null", b"NaN", b"Infinity", b"-Infinity")  # the last three as json.loads reads them
_QUOTE, _COLON, _COMMA, _OPEN_OBJECT, _OPEN_ARRAY = b'":,{['


class Roles:
    """The roles of a ``messages`` list without the messages: how many, the ones that are no role, the last."""

    __slots__ = ("bad", "count", "last")

    def __init__(self) -> None:
        self.count = 0
        self.bad: list[tuple[int, Any]] = []
        self.last: Any = None

    def add(self, role: Any) -> None:
        """Count one message whose role is ``role`` (None for a message that is no object or has none)."""
        if not isinstance(role, str) or role not in ROLES:
            self.bad.append((self.count, role))
        self.last = role
        self.count += 1


class Scanned:
    """What :func:`scan_line` found: the line's length in bytes, and its kept skeleton or why it is not JSON.

    ``line`` is None for a line of white space only; for an object, a dict of the kept fields (``body`` a dict
    with ``model`` and ``messages`` as :class:`Roles`); for any other JSON value, one of its type.
    """

    def __init__(self, length: int, line: Any, error: str | None) -> None:
        self.length = length
        self.line = line
        self.error = error


class ElidedString(str):
    """A kept string too long to hold, named by its size and SHA-256 (equal strings give equal names)."""

    size: int

    def __new__(cls, size: int, sha256: str) -> ElidedString:
        text = super().__new__(cls, f"<a string of {size} bytes, sha256 {sha256}>")
        text.size = size
        return text


class _Elided:
    """A kept value too long to hold: its repr says what it was."""

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


class _Invalid(Exception):
    """Why the line is not valid JSON, and where."""


class _Reader:
    """The line, a piece at a time: ``buf[pos:]`` is what is not read yet of what is held."""

    def __init__(self, handle: BinaryIO, sink: Callable[[bytes], object] | None = None) -> None:
        self.handle = handle
        self.sink = sink
        self.buf = b""
        self.pos = 0
        self.base = 0  # the line's offset of buf[0]
        self.ended = False
        self.decoder: codecs.IncrementalDecoder | None = codecs.getincrementaldecoder("utf-8")("surrogatepass")
        self.kept: bytearray | None = None  # the bytes of the value being kept, from kept_from on in buf
        self.kept_from = self.kept_size = 0
        self.kept_digest = hashlib.sha256()

    def add(self, piece: bytes) -> None:
        if self.sink is not None and piece:
            self.sink(piece)
        self.ended = not piece or piece.endswith(b"\n")
        self._keep_held()
        self.base += self.pos
        self.buf, self.pos, self.kept_from = self.buf[self.pos :] + piece, 0, 0
        if self.decoder is not None:
            try:
                for at in range(0, max(len(piece), 1), PIECE_BYTES):  # no text larger than a piece at once
                    last = self.ended and at + PIECE_BYTES >= len(piece)
                    self.decoder.decode(piece[at : at + PIECE_BYTES], final=last)
            except UnicodeDecodeError as exc:
                at = self.base + len(self.buf) - len(piece)
                raise _Invalid(f"is not UTF-8 ({exc.reason}) in the bytes from {at}") from exc

    def more(self) -> bool:
        """Read the next piece of the line; False when the line has ended."""
        if self.ended:
            return False
        self.add(self.handle.readline(PIECE_BYTES))
        return True

    def peek(self) -> int:
        """The next byte that is not white space, without reading it (-1 at the end of the line)."""
        while True:
            self.pos = _SPACE.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.more():
                return -1

    def expect(self, byte: int, what: str) -> None:
        if self.peek() != byte:
            raise self.fail(f"expecting {what}")
        self.pos += 1

    def fail(self, what: str) -> _Invalid:
        return _Invalid(f"{what} at byte {self.base + self.pos}")

    def string(self) -> str | None:
        """Read a string (pos at its quote); its text when it is short enough to be a key we look for."""
        start = self.base + self.pos
        self.pos += 1
        head = bytearray()
        while True:
            begin = self.pos
            self.pos = _STRING.match(self.buf, self.pos).end()  # type: ignore[union-attr]
            if len(head) <= 64:
                head += self.buf[begin : min(self.pos, begin + 65 - len(head))]  # no copy of a long string
            if self.pos < len(self.buf):
                byte = self.buf[self.pos]
                if byte == _QUOTE:
                    self.pos += 1
                    return json.loads(b'"' + head + b'"') if len(head) <= 64 else None
                if byte != 0x5C or len(self.buf) - self.pos >= 6 or self.ended:  # not an escape cut by the piece
                    raise self.fail("an invalid escape or control character in a string")
            if not self.more():
                raise _Invalid(f"an unterminated string starting at byte {start}")

    def scalar(self) -> None:
        """Read a number or a word (pos at its first byte)."""
        while len(self.buf) - self.pos < len(b"-Infinity") and self.more():
            pass
        for word in _WORDS:
            if self.buf.startswith(word, self.pos):
                self.pos += len(word)
                return
        while not self.ended:  # a number may go on in the next piece ("1" then "2", "1." then "5", "1e" then "+3")
            match = _NUMBER.match(self.buf, self.pos)
            if match is None or match.end() + 2 < len(self.buf):
                break
            if len(self.buf) - self.pos > KEEP_BYTES:  # json.loads refuses an int of over 4300 digits too
                raise self.fail("a number too long to read")
            self.more()
        match = _NUMBER.match(self.buf, self.pos)
        if match is None:
            raise self.fail("expecting a value")
        self.pos = match.end()

    def skip(self) -> str:
        """Read one value whole, keeping nothing but what kind it was."""
        kind = ""
        stack = bytearray()
        while True:
            byte = self.peek()
            if byte in (_OPEN_OBJECT, _OPEN_ARRAY):
                kind = kind or ("an object" if byte == _OPEN_OBJECT else "an array")
                self.pos += 1
                if len(stack) >= MAX_DEPTH:
                    raise self.fail(f"nesting deeper than {MAX_DEPTH}")
                stack.append(byte)
                if self.peek() != byte + 2:  # not {} or []: its first member
                    self._member(byte)
                    continue
                self.pos += 1
                stack.pop()
            elif byte == _QUOTE:
                kind = kind or "a string"
                self.string()
            elif byte == -1:
                raise self.fail("expecting a value")
            else:
                kind = kind or "a value"
                self.scalar()
            while stack:  # after a value inside a container: its end, or a comma and the next member
                byte = self.peek()
                if byte == stack[-1] + 2:
                    self.pos += 1
                    stack.pop()
                    continue
                self.expect(_COMMA, "',' or the container's end")
                self._member(stack[-1])
                break
            if not stack:
                return kind

    def _member(self, container: int) -> None:
        if container == _OPEN_OBJECT:
            self.name()

    def name(self) -> str | None:
        """Read an object's key and its colon."""
        if self.peek() != _QUOTE:
            raise self.fail("expecting a property name in double quotes")
        key = self.string()
        self.expect(_COLON, "':'")
        return key

    def keep(self) -> Any:
        """Read one value and keep it (a long one by its size, a long string by its SHA-256 too)."""
        self.peek()
        self.kept, self.kept_from, self.kept_size, self.kept_digest = bytearray(), self.pos, 0, hashlib.sha256()
        kind = self.skip()
        self._keep_held()
        data, self.kept = self.kept, None
        assert data is not None
        if self.kept_size <= KEEP_BYTES:
            return json.loads(bytes(data))
        if kind == "a string":  # still a string, one per content, so that custom_ids stay comparable
            return ElidedString(self.kept_size, self.kept_digest.hexdigest())
        return _Elided(f"<{kind} of {self.kept_size} bytes>")

    def _keep_held(self) -> None:
        if self.kept is not None:
            part = self.buf[self.kept_from : self.pos]
            self.kept_size += len(part)
            self.kept_digest.update(part)
            if len(self.kept) <= KEEP_BYTES:
                self.kept += part[: KEEP_BYTES + 1 - len(self.kept)]
            self.kept_from = self.pos


def _members(reader: _Reader, each: Callable[[str | None], None]) -> None:
    """Read an object (pos at its brace), calling ``each`` with each key, with pos at its value."""
    reader.pos += 1
    if reader.peek() == _OPEN_OBJECT + 2:
        reader.pos += 1
        return
    while True:
        each(reader.name())
        if reader.peek() == _OPEN_OBJECT + 2:
            reader.pos += 1
            return
        reader.expect(_COMMA, "',' or '}'")


def _object(reader: _Reader, keys: dict[str, Callable[[_Reader], Any]]) -> dict[str, Any] | None:
    """An object's values for ``keys`` (the last of a key given twice, as json.loads); None if it is no object."""
    if reader.peek() != _OPEN_OBJECT:
        reader.skip()
        return None
    found: dict[str, Any] = {}

    def each(key: str | None) -> None:
        read = keys.get(key) if key is not None else None
        if read is None:
            reader.skip()
        else:
            found[key] = read(reader)  # type: ignore[index]

    _members(reader, each)
    return found


def _messages(reader: _Reader) -> Roles | None:
    if reader.peek() != _OPEN_ARRAY:
        reader.skip()
        return None
    roles = Roles()
    reader.pos += 1
    if reader.peek() == _OPEN_ARRAY + 2:
        reader.pos += 1
        return roles
    while True:
        message = _object(reader, {"role": _Reader.keep})
        roles.add(message.get("role") if message is not None else None)
        if reader.peek() == _OPEN_ARRAY + 2:
            reader.pos += 1
            return roles
        reader.expect(_COMMA, "',' or ']'")


_BODY_KEYS: dict[str, Callable[[_Reader], Any]] = {
    "model": _Reader.keep,
    "messages": _messages,
    "max_tokens": _Reader.keep,  # the three that bound the output (estimate.line_cost_from_size)
    "n": _Reader.keep,
    "enable_thinking": _Reader.keep,
}


def _body(reader: _Reader) -> Any:
    body = _object(reader, _BODY_KEYS)
    return [] if body is None else body  # no object: the validator says so, whatever it was


_LINE_KEYS: dict[str, Callable[[_Reader], Any]] = {
    "custom_id": _Reader.keep,
    "method": _Reader.keep,
    "url": _Reader.keep,
    "body": _body,
}


def scan_line(first: bytes, handle: BinaryIO, sink: Callable[[bytes], object] | None = None) -> Scanned:
    """Check the line that begins with ``first`` and goes on in ``handle``, reading the rest of it in pieces.

    ``sink``, if given, is handed every piece of the line in order (``first`` too, and the rest of a line that is
    not JSON): a caller can copy or hash the line as it is checked, never holding it whole.
    """
    reader = _Reader(handle, sink)
    try:
        reader.add(first)
        reader.ended = first.endswith(b"\n")  # an empty first piece is no end: the rest is still to read
        if reader.peek() == -1:
            return Scanned(reader.base + len(reader.buf), None, None)
        if reader.peek() == _OPEN_OBJECT:
            line: Any = _object(reader, _LINE_KEYS)
        else:  # no object: the validator names its type
            line = {"a string": "", "an array": [], "a value": 0.0}[reader.skip()]
        if reader.peek() != -1:
            raise reader.fail("extra data")
    except _Invalid as exc:
        reader.decoder = None  # the rest is only counted
        while reader.more():
            reader.pos = len(reader.buf)
        return Scanned(reader.base + len(reader.buf), [], str(exc))
    return Scanned(reader.base + len(reader.buf), line, None)
