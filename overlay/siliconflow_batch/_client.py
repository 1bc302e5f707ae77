"""The clients teams construct: :class:`SiliconFlow` and its async twin."""

from __future__ import annotations

import os
from types import TracebackType
from typing import TYPE_CHECKING, Self

import httpx

from ._exceptions import SiliconFlowError
from ._http import DEFAULT_BASE_URL, DEFAULT_TIMEOUT, AsyncSender, Sender

if TYPE_CHECKING:
    from .resources.batches import AsyncBatches, Batches
    from .resources.files import AsyncFiles, Files

__all__ = ["DEFAULT_MAX_RETRIES", "AsyncSiliconFlow", "SiliconFlow"]

DEFAULT_MAX_RETRIES = 2


def _config(
    api_key: str | None, base_url: str | None, timeout: float | httpx.Timeout, max_retries: int
) -> dict[str, object]:
    key = api_key if api_key is not None else os.environ.get("SILICONFLOW_API_KEY")
    key = key.strip() if isinstance(key, str) else key  # as read from a file: a trailing newline is common
    if not key:
        raise SiliconFlowError("no API key: pass api_key=... or set SILICONFLOW_API_KEY")
    if not all("!" <= char <= "~" for char in key):  # the message never quotes the key
        raise SiliconFlowError("the API key holds a space, control or non-ASCII character; check where it came from")
    url = base_url or os.environ.get("SILICONFLOW_BASE_URL") or DEFAULT_BASE_URL
    if not url.startswith(("http://", "https://")):
        raise SiliconFlowError(f"base_url must start with http:// or https://, got {url!r}")
    return {
        "api_key": key,
        "base_url": url,
        "timeout": timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
        "max_retries": max_retries,
    }


class _Settings:
    """What both clients expose of their configuration (never the key)."""

    _sender: Sender | AsyncSender

    @property
    def base_url(self) -> str:
        """The API's base URL."""
        return self._sender.base_url

    @property
    def max_retries(self) -> int:
        """How many times a failed request is retried."""
        return self._sender.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout of each request."""
        return self._sender.timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._sender!r})"


class SiliconFlow(_Settings):
    """Client for the SiliconFlow Batch API.

    ``api_key`` defaults to ``SILICONFLOW_API_KEY``; ``base_url`` to ``SILICONFLOW_BASE_URL``, then
    ``https://api.siliconflow.cn/v1``. Requests that fail transiently are retried up to ``max_retries`` times.
    Pass ``http_client`` to use your own ``httpx.Client`` (proxies, transports); it is then yours to close.
    Use as a context manager, or call :meth:`close`.
    """

    files: Files
    batches: Batches
    _sender: Sender

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.Client | None = None,
    ) -> None:
        config = _config(api_key, base_url, timeout, max_retries)
        self._owns_http = http_client is None
        client = http_client if http_client is not None else httpx.Client(follow_redirects=True)
        self._sender = Sender(client, **config)
        from .resources import Batches, Files  # with the models and parsers: loaded by the first client

        self.files = Files(self._sender)
        self.batches = Batches(self._sender)

    def close(self) -> None:
        """Close the HTTP connections (unless the ``http_client`` was passed in)."""
        if self._owns_http:
            self._sender.client.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class AsyncSiliconFlow(_Settings):
    """The async twin of :class:`SiliconFlow`: the same calls, awaited; ``async with`` closes it."""

    files: AsyncFiles
    batches: AsyncBatches
    _sender: AsyncSender

    def __init__(
        self,
        *,
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float | httpx.Timeout = DEFAULT_TIMEOUT,
        max_retries: int = DEFAULT_MAX_RETRIES,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        config = _config(api_key, base_url, timeout, max_retries)
        self._owns_http = http_client is None
        client = http_client if http_client is not None else httpx.AsyncClient(follow_redirects=True)
        self._sender = AsyncSender(client, **config)
        from .resources import AsyncBatches, AsyncFiles

        self.files = AsyncFiles(self._sender)
        self.batches = AsyncBatches(self._sender)

    async def close(self) -> None:
        """Close the HTTP connections (unless the ``http_client`` was passed in)."""
        if self._owns_http:
            await self._sender.client.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.close()
