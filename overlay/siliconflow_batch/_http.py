"""Every decision about one API request: URL and auth, deadlines, retries with backoff, logging, errors.

The senders (``_async/sender.py`` and the ``_sync`` twin generated from it) only send and sleep; everything
they decide is here, in :class:`Policy`, free of I/O.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Protocol, TypeVar
from urllib.parse import urlsplit

import httpx

from ._exceptions import APIConnectionError, APIError, APITimeoutError, shorten, where
from ._retry import backoff_delay, should_retry
from ._version import package_version

__all__ = [
    "Clock",
    "Policy",
    "RequestSpec",
    "SystemClock",
    "deadline_scope",
    "default_headers",
    "logger",
    "time_left",
    "use_clock",
]

logger = logging.getLogger("siliconflow_batch")

T = TypeVar("T")

_KEPT_URLS = 256  # parsed URLs a sender keeps (see Policy._parsed)


class Clock(Protocol):
    """What the client reads the time from and sleeps with; :func:`use_clock` installs another one."""

    def monotonic(self) -> float:
        """Seconds on a clock that never goes back."""
        ...

    def time(self) -> float:
        """Wall time, seconds since the epoch: what a job directory records, read again by another process."""
        ...

    def sleep(self, seconds: float) -> None:
        """Block for ``seconds``."""
        ...

    async def async_sleep(self, seconds: float) -> None:
        """Suspend the task for ``seconds``."""
        ...


class SystemClock:
    """The real clock: ``time.monotonic``, ``time.sleep`` and ``asyncio.sleep``."""

    def monotonic(self) -> float:
        """``time.monotonic()``."""
        return time.monotonic()

    def time(self) -> float:
        """``time.time()``."""
        return time.time()

    def sleep(self, seconds: float) -> None:
        """``time.sleep(seconds)``."""
        time.sleep(seconds)

    async def async_sleep(self, seconds: float) -> None:
        """``asyncio.sleep(seconds)``; asyncio is imported on first async use, not with the package."""
        import asyncio

        await asyncio.sleep(seconds)


_clock: Clock = SystemClock()


@contextmanager
def use_clock(clock: Clock) -> Iterator[Clock]:
    """Make every wait, retry and deadline of the package use ``clock`` inside the block (process-wide)."""
    global _clock
    previous, _clock = _clock, clock
    try:
        yield clock
    finally:
        _clock = previous


def monotonic() -> float:
    """The installed clock's time."""
    return _clock.monotonic()


def wall_time() -> float:
    """The installed clock's wall time (seconds since the epoch): for what outlives the process (not monotonic)."""
    return _clock.time()


def sleep(seconds: float) -> None:
    """Sleep on the installed clock."""
    _clock.sleep(seconds)


async def async_sleep(seconds: float) -> None:
    """Sleep on the installed clock, in a task."""
    await _clock.async_sleep(seconds)


def offload(function: Callable[..., T], *args: Any) -> T:
    """Run disk or SQLite work (the sync client runs it in place; see :func:`async_offload`)."""
    return function(*args)


async def async_offload(function: Callable[..., T], *args: Any) -> T:
    """Run disk or SQLite work in a worker thread, so that the event loop goes on meanwhile.

    The async client's jobs spool, cut, ingest and count through here: written once in ``_async/`` (unasync
    turns it into :func:`offload`), and never blocking a loop that serves other work. A thread cannot be
    stopped: a caller cancelled meanwhile waits for it to finish (its transaction committed or rolled back)
    before it unwinds, so that nothing closes the ledger, or lets go of the job's lock, under it.
    """
    import asyncio

    work = asyncio.ensure_future(asyncio.to_thread(function, *args))
    try:
        return await asyncio.shield(work)
    except asyncio.CancelledError:
        while not work.done():
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.wait([work])
        if not work.cancelled():
            work.exception()  # seen: the caller's cancel is what it raises
        raise


# A wall-clock deadline (on `monotonic`) for every request sent inside `deadline_scope`: the request timeouts
# and the retries' sleeps are cut to fit it. A context variable, so each asyncio task keeps its own.
_DEADLINE: ContextVar[float | None] = ContextVar("siliconflow_batch_deadline", default=None)


@contextmanager
def deadline_scope(at: float | None) -> Iterator[None]:
    """Send the requests of the block so that none runs, or retries, past ``at`` (a ``monotonic()`` time)."""
    outer = _DEADLINE.get()
    token = _DEADLINE.set(at if outer is None else outer if at is None else min(at, outer))
    try:
        yield
    finally:
        _DEADLINE.reset(token)


def time_left() -> float | None:
    """Seconds until the current deadline (None when there is none); may be negative."""
    deadline = _DEADLINE.get()
    return None if deadline is None else deadline - monotonic()


@dataclass(frozen=True)
class RequestSpec:
    """What to send: built from the generated package's request builders, or an absolute result URL."""

    method: str
    url: str
    params: Mapping[str, Any] | None = None
    json: Any = None
    # Re-created for every attempt, so that a retried upload re-reads its file from the start.
    files: Callable[[], Any] | None = None
    idempotent: bool = True
    headers: Mapping[str, str] = field(default_factory=dict)
    timeout: httpx.Timeout | None = None  # this call's, instead of the client's


@dataclass(frozen=True)
class _Retry:
    delay: float
    reason: str


class Policy:
    """Configuration and every decision shared by the sync and async senders."""

    def __init__(
        self,
        *,
        api_key: str,
        base_url: str,
        timeout: httpx.Timeout,
        max_retries: int,
        client_has_headers: bool = False,
    ) -> None:
        if max_retries < 0:
            raise ValueError(f"max_retries must be >= 0, got {max_retries}")
        self._api_key = api_key
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.max_retries = max_retries
        parts = urlsplit(self.base_url)
        self._origin = (parts.scheme, parts.netloc.lower())
        # The headers of every request, built once (a simple call is a few dozen microseconds of Python on top of
        # the network: merging and normalising them per call was a good part of it). ``client_has_headers``: the
        # httpx client was made with default_headers() (the client's own), so only the key is added per request;
        # a client passed in gets ours per request, over its own, as before.
        self._client_has_headers = client_has_headers
        self._sent = {} if client_has_headers else default_headers()
        self._keyless = httpx.Headers(self._sent)
        self._keyed = httpx.Headers({**self._sent, "Authorization": f"Bearer {api_key}"})
        self._urls: dict[str, httpx.URL] = {}

    def settings(self, **changes: Any) -> dict[str, Any]:
        """The settings (key included, for a new sender), with the ``changes`` that are not None."""
        current = {"api_key": self._api_key, "base_url": self.base_url, "timeout": self.timeout}
        current["max_retries"] = self.max_retries
        current["client_has_headers"] = self._client_has_headers  # a new sender shares the client
        return {**current, **{k: v for k, v in changes.items() if v is not None}}

    def sends_key_to(self, url: str) -> bool:
        """The key goes only to base_url's scheme and host: never to a result URL on another host."""
        parts = urlsplit(url)
        return (parts.scheme, parts.netloc.lower()) == self._origin

    def build(self, client: httpx.Client | httpx.AsyncClient, spec: RequestSpec) -> httpx.Request:
        relative = "://" not in spec.url
        url = self.base_url + spec.url if relative else spec.url
        timeout = spec.timeout or self.timeout
        deadline = _DEADLINE.get()
        if deadline is not None:
            left = deadline - monotonic()
            if left <= 0:
                raise APITimeoutError(f"{spec.method} {_path_of(url)}: the deadline passed before it was sent")
            timeout = _capped(timeout, left)
        keyed = relative or self.sends_key_to(url)
        headers: httpx.Headers | dict[str, str]
        if spec.headers:
            headers = {**self._sent, **spec.headers}
            if keyed:
                headers["Authorization"] = f"Bearer {self._api_key}"
        else:
            headers = self._keyed if keyed else self._keyless  # copied by httpx into each request, never changed
        return client.build_request(
            spec.method,
            self._parsed(url) if relative else url,
            params=spec.params,
            json=spec.json,
            files=spec.files() if spec.files is not None else None,
            headers=headers,
            extensions={"timeout": timeout.as_dict()},  # what build_request makes of timeout=, without a copy
        )

    def _parsed(self, url: str) -> httpx.URL:
        """``httpx.URL(url)`` for one of the API's own URLs, parsed once and kept.

        Parsing costs as much as the rest of a request's build, and a wait asks for the same URL again and again
        (httpx URLs never change: each request copies its own). Bounded: emptied when full. Result URLs on other
        hosts (signed, used once) never come here.
        """
        parsed = self._urls.get(url)
        if parsed is None:
            if len(self._urls) >= _KEPT_URLS:
                self._urls.clear()
            parsed = self._urls[url] = httpx.URL(url)
        return parsed

    def on_response(self, spec: RequestSpec, response: httpx.Response, retries: int) -> _Retry | None:
        """Log the answer; return how to retry it, or None when it is final (success or not)."""
        if logger.isEnabledFor(logging.DEBUG):
            logger.debug("%s -> %d%s", where(response.request), response.status_code, _took(response))
        if response.is_success or retries >= self.max_retries:
            return None
        if not should_retry(idempotent=spec.idempotent, response=response):
            return None
        delay = backoff_delay(retries, response.headers)
        return _Retry(delay, f"{response.status_code}") if _fits(delay) else None

    def on_error(self, spec: RequestSpec, request: httpx.Request, error: httpx.HTTPError, retries: int) -> _Retry:
        """Log a transport failure; return how to retry it, or raise it as our own error."""
        logger.debug("%s failed: %s", where(request), type(error).__name__)
        if retries < self.max_retries and should_retry(idempotent=spec.idempotent, error=error):
            delay = backoff_delay(retries)
            if _fits(delay):
                return _Retry(delay, type(error).__name__)
        if isinstance(error, httpx.TimeoutException):
            raise APITimeoutError(f"{where(request)}: timed out ({_describe(error)})", request=request) from error
        if isinstance(error, httpx.TransportError):
            raise APIConnectionError(f"{where(request)}: {_describe(error)}", request=request) from error
        raise APIError(f"{where(request)}: {_describe(error)}", request=request) from error

    def log_retry(self, spec: RequestSpec, retry: _Retry, retries: int) -> None:
        logger.debug(
            "retrying %s %s after %s in %.2f s (retry %d of %d)",
            spec.method,
            _path_of(spec.url),
            retry.reason,
            retry.delay,
            retries + 1,
            self.max_retries,
        )

    def __repr__(self) -> str:
        return f"base_url={self.base_url!r}, max_retries={self.max_retries}, timeout={self.timeout!r}"


def _took(response: httpx.Response) -> str:
    """`` in 12.3 ms`` once httpx has timed the response (a stream still open has no time yet)."""
    try:
        return f" in {response.elapsed.total_seconds() * 1000.0:.1f} ms"
    except RuntimeError:
        return ""


def _fits(delay: float) -> bool:
    """Whether a retry after ``delay`` seconds still starts before the deadline."""
    left = time_left()
    return left is None or delay < left


def _capped(timeout: httpx.Timeout, limit: float) -> httpx.Timeout:
    def cap(value: float | None) -> float:
        return limit if value is None else min(value, limit)

    return httpx.Timeout(
        connect=cap(timeout.connect), read=cap(timeout.read), write=cap(timeout.write), pool=cap(timeout.pool)
    )


@functools.cache
def _user_agent() -> str:
    return f"siliconflow-batch/{package_version()} python-httpx/{httpx.__version__}"


def default_headers() -> dict[str, str]:
    """What every request carries besides the key: our User-Agent, and the answers we read.

    Errors come as JSON or plain text (404, 504); saying so lets servers (and Prism) send either.
    """
    return {"User-Agent": _user_agent(), "Accept": "application/json, text/plain;q=0.9"}


def _path_of(url: str) -> str:
    return urlsplit(url).path if "://" in url else url


def _describe(error: httpx.HTTPError) -> str:
    text = shorten(str(error), 200)
    return f"{type(error).__name__}: {text}" if text else type(error).__name__
