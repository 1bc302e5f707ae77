# Generated from _async/lines.py by scripts/unasync.py: edit that file, not this one.
"""A streamed body as lines, without holding more than one line and one chunk."""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from .._results import Splitter

__all__ = ["iter_lines"]


def iter_lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Split a byte stream into lines (linear in its length, however long a line is)."""
    splitter = Splitter()
    for chunk in chunks:
        for line in splitter.feed(chunk):
            yield line
    for line in splitter.end():
        yield line
