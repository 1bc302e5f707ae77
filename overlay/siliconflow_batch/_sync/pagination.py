# Generated from _async/pagination.py by scripts/unasync.py: edit that file, not this one.
"""Cursor pagination over ``after``: one page in memory, and no endless loop on a server that ignores it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from .._pagination import Cursor

if TYPE_CHECKING:
    from ..types import Batch, BatchPage

__all__ = ["BatchPager"]


class BatchPager:
    """Every batch, fetched a page at a time as you iterate over it; :meth:`iter_pages` yields whole pages."""

    def __init__(self, fetch: Callable[[str | None], BatchPage]) -> None:
        self._fetch = fetch

    def iter_pages(self) -> Iterator[BatchPage]:
        """Yield each non-empty page in turn."""
        cursor = Cursor()
        while not cursor.done:
            page = self._fetch(cursor.after)
            if cursor.accept(page):
                yield page

    def __iter__(self) -> Iterator[Batch]:
        for page in self.iter_pages():
            for batch in page.data:
                yield batch
