"""A streamed body as lines, without holding more than one line and one chunk."""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator

from .._results import Splitter

__all__ = ["aiter_lines"]


async def aiter_lines(chunks: AsyncIterable[bytes]) -> AsyncIterator[bytes]:
    """Split a byte stream into lines (linear in its length, however long a line is)."""
    splitter = Splitter()
    async for chunk in chunks:
        for line in splitter.feed(chunk):
            yield line
    for line in splitter.end():
        yield line
