"""The pagers' shared state: where the next page starts, and the loops a server's cursors could lead into."""

from __future__ import annotations

from typing import TYPE_CHECKING

from ._exceptions import PaginationError

if TYPE_CHECKING:
    from .types import BatchPage

__all__ = ["Cursor"]


class Cursor:
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
