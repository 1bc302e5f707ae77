"""Raw response access: ``client.batches.with_raw_response.retrieve(...)`` returns an :class:`APIResponse`."""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from typing import Any, Generic, ParamSpec, TypeVar, cast

import httpx

__all__ = ["APIResponse", "answer", "async_raw_view", "raw_view"]

T = TypeVar("T")
P = ParamSpec("P")


class APIResponse(Generic[T]):
    """The HTTP response of one call and, on demand, its parsed value (what the ordinary method returns)."""

    def __init__(self, http_response: httpx.Response, parser: Callable[[httpx.Response], T]) -> None:
        self.http_response = http_response
        self._parser = parser
        self._parsed: list[T] = []

    @property
    def status_code(self) -> int:
        """The HTTP status."""
        return self.http_response.status_code

    @property
    def headers(self) -> httpx.Headers:
        """The response headers (rate-limit and trace headers, say)."""
        return self.http_response.headers

    def parse(self) -> T:
        """The parsed value; parsed once, on the first call."""
        if not self._parsed:
            self._parsed.append(self._parser(self.http_response))
        return self._parsed[0]

    def __repr__(self) -> str:
        request = self.http_response.request
        return f"<APIResponse [{self.status_code}] {request.method} {request.url.path}>"


class _Raw:
    """The raw call in progress in this context: the method it wraps, and the last response seen."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.answered = False
        self.last: httpx.Response | None = None


_RAW: ContextVar[_Raw | None] = ContextVar("siliconflow_batch_raw", default=None)


def answer(name: str, response: httpx.Response, parse: Callable[[httpx.Response], T]) -> T:
    """What method ``name`` returns for ``response``: ``parse(response)``, or the response itself.

    Inside ``with_raw_response.<name>`` it is an :class:`APIResponse`, parsed on demand: the one place where a
    raw call and the ordinary one part ways.
    """
    raw = _RAW.get()
    if raw is None:
        return parse(response)
    raw.last = response
    if raw.name != name or raw.answered:  # a request the method makes on the way (a create's lookup)
        return parse(response)
    raw.answered = True
    return cast(T, APIResponse(response, parse))


def _raw_result(raw: _Raw, result: object) -> APIResponse[Any]:
    if isinstance(result, APIResponse):
        return result
    if raw.last is None:  # pragma: no cover - every raw method sends at least one request
        raise RuntimeError(f"{raw.name} made no request")
    return APIResponse(raw.last, lambda _: result)  # answered on the way (a create found by its key)


def raw_view(method: Callable[P, T]) -> Callable[P, APIResponse[T]]:
    """``method``, returning its HTTP response with the parsed value (:class:`APIResponse`).

    As openai-python's ``with_raw_response`` is: the same method, not a mirror of it.
    """

    @functools.wraps(method)
    def call(*args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        raw = _Raw(method.__name__)
        token = _RAW.set(raw)
        try:
            return _raw_result(raw, method(*args, **kwargs))
        finally:
            _RAW.reset(token)

    return call


def async_raw_view(method: Callable[P, Awaitable[T]]) -> Callable[P, Awaitable[APIResponse[T]]]:
    """:func:`raw_view` for an async method."""

    @functools.wraps(method)
    async def call(*args: P.args, **kwargs: P.kwargs) -> APIResponse[T]:
        raw = _Raw(method.__name__)
        token = _RAW.set(raw)
        try:
            return _raw_result(raw, await method(*args, **kwargs))
        finally:
            _RAW.reset(token)

    return call
