"""What every resource of the client is: its calls' sender, and its ``with_raw_response``."""

from __future__ import annotations

import functools
from typing import Any, Generic, TypeVar, get_args, get_origin

from .sender import AsyncSender

__all__ = ["AsyncResource"]

RawView = TypeVar("RawView")


class AsyncResource(Generic[RawView]):
    """A resource (``client.batches``, say) over the client's sender; ``RawView`` is its raw view's class.

    A resource declares its view once, in its base: ``class AsyncBatches(AsyncResource[AsyncRawBatches])``.
    """

    _view: type[Any]

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        for base in cls.__dict__.get("__orig_bases__", ()):
            if get_origin(base) is AsyncResource:
                cls._view = get_args(base)[0]

    def __init__(self, sender: AsyncSender) -> None:
        self._sender = sender

    @functools.cached_property
    def with_raw_response(self) -> RawView:
        """The single-request calls, returning the HTTP response with the parsed value (:class:`APIResponse`)."""
        view: RawView = self._view(self)
        return view
