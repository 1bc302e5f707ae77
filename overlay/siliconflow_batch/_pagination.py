"""Cursor pagination over ``after``: one page in memory, and no endless loop on a server that ignores it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

from ._exceptions import PaginationError
from .types import Batch, BatchPage

__all__ = ["AsyncBatchPager", "BatchPager"]


class _Cursor:
    """The state shared by both pagers: where the next page starts, and what the last page held."""

    def __init__(self) -> None:
        self.after: str | None = None
        self.previous_ids: frozenset[str] = frozenset()
        self.used: set[str] = set()  # one cursor per page: a cycle of any length repeats one of them
        self.done = False

    def accept(self, page: BatchPage) -> bool:
        """Record ``page``; return False when it is empty (the end). Raises on a page served again."""
        if not page.data:
            self.done = True
            return False
        ids = frozenset(batch.id for batch in page.data)
        if page.data[0].id in self.previous_ids:
            raise PaginationError(
                f"the server answered after={self.after!r} with a page it already served "
                f"(starting at {page.data[0].id!r}): it does not support paging, stopping instead of looping"
            )
        next_after = page.last_id or page.data[-1].id
        self.done = not page.has_more or next_after == self.after
        if not self.done and next_after in self.used:
            raise PaginationError(
                f"the server's pages loop: after={self.after!r} leads back to after={next_after!r}, "
                "which was already followed; stopping instead of looping"
            )
        self.used.add(next_after)
        self.previous_ids, self.after = ids, next_after
        return True


class BatchPager:
    """Iterate over every batch, fetching pages as needed; :meth:`iter_pages` yields whole pages."""

    def __init__(self, fetch: Callable[[str | None], BatchPage]) -> None:
        self._fetch = fetch

    def iter_pages(self) -> Iterator[BatchPage]:
        """Yield each non-empty page in turn."""
        cursor = _Cursor()
        while not cursor.done:
            page = self._fetch(cursor.after)
            if cursor.accept(page):
                yield page

    def __iter__(self) -> Iterator[Batch]:
        for page in self.iter_pages():
            yield from page.data


class AsyncBatchPager:
    """The async twin of :class:`BatchPager`: ``async for batch in client.batches.list()``."""

    def __init__(self, fetch: Callable[[str | None], Awaitable[BatchPage]]) -> None:
        self._fetch = fetch

    async def iter_pages(self) -> AsyncIterator[BatchPage]:
        """Yield each non-empty page in turn."""
        cursor = _Cursor()
        while not cursor.done:
            page = await self._fetch(cursor.after)
            if cursor.accept(page):
                yield page

    async def __aiter__(self) -> AsyncIterator[Batch]:
        async for page in self.iter_pages():
            for batch in page.data:
                yield batch
