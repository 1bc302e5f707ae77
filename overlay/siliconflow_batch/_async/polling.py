"""The one loop that talks to the server until something is done.

``batches.wait`` and ``wait_many`` run it for each batch, and a job for its rounds and its sending.

Each try runs inside the timer's deadline (``_http.deadline_scope``); a failure goes to the timer, which re-raises
it unless it may pass (``_failures``), and the timer says how long to sleep before the next try.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from .. import _http
from .._exceptions import APIError
from .._wait import WaitState

__all__ = ["persist"]


async def persist(step: Callable[[], Awaitable[bool]], timer: WaitState) -> None:
    """Run ``step`` until it returns True; between tries, wait as ``timer`` says (its interval, its outage)."""
    while True:
        try:
            with _http.deadline_scope(timer.deadline):
                if await step():
                    return
        except APIError as error:
            timer.failed(error)  # re-raised unless it may pass
        await _http.async_sleep(timer.next_delay())
