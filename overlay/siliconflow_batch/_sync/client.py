# Generated from _async/client.py by scripts/unasync.py: edit that file, not this one.
"""The client teams construct (the async one; the sync :class:`SiliconFlow` is generated from this file)."""

from __future__ import annotations

import functools
from types import TracebackType
from typing import TYPE_CHECKING, Self

import httpx

from .._client import Settings, client_config
from .._defaults import DEFAULT_MAX_RETRIES, DEFAULT_TIMEOUT
from .._http import default_headers
from .sender import Sender

if TYPE_CHECKING:
    from .account import Account
    from .batches import Batches
    from .files import Files
    from .jobs import Jobs

__all__ = ["SiliconFlow"]


class SiliconFlow(Settings):
    """Client for the SiliconFlow Batch API.

    ``api_key`` defaults to ``SILICONFLOW_API_KEY``; ``base_url`` to ``SILICONFLOW_BASE_URL``, then
    ``https://api.siliconflow.cn/v1``. Requests that fail transiently are retried up to ``max_retries`` times.
    Pass ``http_client`` to use your own httpx client (proxies, transports); it is then yours to close.
    Use as a context manager, or call :meth:`close`.
    """

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
        config = client_config(api_key, base_url, timeout, max_retries)
        self._owns_http = http_client is None
        # Ours is made with the headers of every request, which then need no merging.
        client = httpx.Client(follow_redirects=True, headers=default_headers()) if http_client is None else http_client
        self._sender = Sender(client, client_has_headers=self._owns_http, **config)

    # Each resource loads on first use, not with the client (as in the openai SDK): a program pays only for
    # what it calls.

    @functools.cached_property
    def files(self) -> Files:
        """Upload, list and download files (:class:`Files`)."""
        from .files import Files

        return Files(self._sender)

    @functools.cached_property
    def batches(self) -> Batches:
        """Create, retrieve, list, cancel, wait for and read batches (:class:`Batches`)."""
        from .batches import Batches

        return Batches(self._sender)

    @functools.cached_property
    def account(self) -> Account:
        """The account behind the key and its balances (:class:`Account`)."""
        from .account import Account

        return Account(self._sender)

    @functools.cached_property
    def jobs(self) -> Jobs:
        """Workloads of any size (:class:`Jobs`); the job engine (SQLite and all) loads on first use."""
        from .jobs import Jobs

        return Jobs(self)

    def with_options(self, *, timeout: float | httpx.Timeout | None = None, max_retries: int | None = None) -> Self:
        """A client with another default ``timeout`` or ``max_retries`` that shares this one's connections.

        The original is unchanged. The copy never closes the shared connection pool: close the original.
        """
        if timeout is not None and not isinstance(timeout, httpx.Timeout):
            timeout = httpx.Timeout(timeout)
        copy = object.__new__(type(self))
        copy._owns_http = False
        copy._sender = Sender(self._sender.client, **self._sender.settings(timeout=timeout, max_retries=max_retries))
        return copy

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
