"""Raw response access: ``client.batches.with_raw_response.retrieve(...)`` returns an :class:`APIResponse`.

A resource method marked :func:`single_request` gets a twin in its resource's ``with_raw_response`` (``_async/raw.py``,
written by scripts/raw_views.py from the marks); the twin is the method itself, run inside :func:`raw_view`, where the
sender's :func:`answer` hands back the response instead of its parsed value. The raw view is derived from the methods
at that step, not at run time, so that type checkers see each twin's signature (the method's, through its
ParamSpec) and griffe the views' members.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Generic, ParamSpec, TypeVar, cast, overload

import httpx

__all__ = ["APIResponse", "answer", "aside", "async_raw_view", "raw_view", "single_request"]

T = TypeVar("T")
P = ParamSpec("P")
F = TypeVar("F", bound=Callable[..., Any])


class APIResponse(Generic[T]):
    """The HTTP response of one call and, on demand, its parsed value (what the ordinary method returns)."""

    def __init__(self, http_response: httpx.Response, parser: Callable[[httpx.Response], T]) -> None:
        self.http_response = http_response
        """The response as httpx received it."""
        self.status_code: int = http_response.status_code
        """The HTTP status."""
        self.headers: httpx.Headers = http_response.headers
        """The response headers (rate-limit and trace headers, say)."""
        self._parser = parser
        self._parsed: list[T] = []

    def parse(self) -> T:
        """The parsed value; parsed once, on the first call."""
        if not self._parsed:
            self._parsed.append(self._parser(self.http_response))
        return self._parsed[0]

    def __repr__(self) -> str:
        request = self.http_response.request
        return f"<APIResponse [{self.status_code}] {request.method} {request.url.path}>"


class _Raw:
    """The raw call in progress in this context: whether it has had its own response, and the last one seen."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.answered = False
        self.last: httpx.Response | None = None


_RAW: ContextVar[_Raw | None] = ContextVar("siliconflow_batch_raw", default=None)
_ASIDE: ContextVar[bool] = ContextVar("siliconflow_batch_raw_aside", default=False)


def answer(response: httpx.Response, parse: Callable[[httpx.Response], T]) -> T:
    """What a call returns for ``response``: ``parse(response)``, or inside a raw call the response itself.

    The sender's ``call`` answers every operation through here: the one place where a raw call and the ordinary one
    part ways. In a raw call, the first response not made :func:`aside` is the call's own: an :class:`APIResponse`,
    parsed on demand.
    """
    raw = _RAW.get()
    if raw is None:
        return parse(response)
    raw.last = response
    if raw.answered or _ASIDE.get():  # a request the method makes on the way (a create's lookup)
        return parse(response)
    raw.answered = True
    return cast(T, APIResponse(response, parse))


@contextmanager
def aside() -> Iterator[None]:
    """The requests of the block are made on the way (a create's lookups by key): no raw call's own response."""
    token = _ASIDE.set(True)
    try:
        yield
    finally:
        _ASIDE.reset(token)


@overload
def single_request(method: F, /) -> F: ...
@overload
def single_request(*, raw_name: str) -> Callable[[F], F]: ...
def single_request(method: F | None = None, /, *, raw_name: str | None = None) -> F | Callable[[F], F]:
    """Mark a resource method as one endpoint's call: its resource's ``with_raw_response`` has its twin.

    The twin is named as the method, or ``raw_name`` (``batches.page`` is ``with_raw_response.list``);
    scripts/raw_views.py writes the views from these marks. The method itself is left as it is.
    """

    def mark(method: F) -> F:
        cast(Any, method).__raw_name__ = raw_name or method.__name__
        return method

    return mark if method is None else mark(method)


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
