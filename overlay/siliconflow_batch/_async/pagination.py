"""Cursor pagination over ``after``: one page in memory, and no endless loop on a server that ignores it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING

from .._pagination import Cursor

if TYPE_CHECKING:
    from ..types import Batch, BatchPage

__all__ = ["AsyncBatchPager"]


class AsyncBatchPager:
    """Every batch, fetched a page at a time as you iterate over it; :meth:`iter_pages` yields whole pages."""

    def __init__(self, fetch: Callable[[str | None], Awaitable[BatchPage]]) -> None:
        self._fetch = fetch

    async def iter_pages(self) -> AsyncIterator[BatchPage]:
        """Yield each non-empty page in turn."""
        cursor = Cursor()
        while not cursor.done:
            page = await self._fetch(cursor.after)
            if cursor.accept(page):
                yield page

    async def __aiter__(self) -> AsyncIterator[Batch]:
        async for page in self.iter_pages():
            for batch in page.data:
                yield batch
