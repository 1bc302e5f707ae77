"""Test doubles for the client tests: a scripted API behind httpx.MockTransport."""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx

from siliconflow_batch import AsyncSiliconFlow, SiliconFlow

from helpers import GET_PAGE_BODY
from spec_check import check_request

KEY = "sk-test-SECRET-0123456789"
BASE = "https://api.test/v1"

# The create page's example: the get page's body, as a new batch has it (nulls where the get page has {} and []).
BATCH: dict[str, Any] = {
    **GET_PAGE_BODY,
    "id": "batch_1",
    "input_file_id": "file-in",
    "errors": None,
    "request_counts": None,
    "metadata": None,
}


def batch(**changes: Any) -> dict[str, Any]:
    """A Batch body (the create page's example) with ``changes``."""
    return {**copy.deepcopy(BATCH), **changes}


Reply = httpx.Response | Exception | Callable[[httpx.Request], httpx.Response]

# No unit test needs more requests than this; one that makes more is looping (a pager that ignores its cursor
# check, a retry without end) and fails at once instead of running until the test's time limit.
MAX_REQUESTS = 500


class RequestBudgetExceeded(AssertionError):
    """A test's client sent more requests than the test allows: a loop, not a slow server."""


class FakeAPI:
    """Routes ``METHOD /path`` to scripted replies, used in order (the last one repeats); records requests.

    Raises RequestBudgetExceeded on the request after ``max_requests``.
    """

    def __init__(self, *, check_spec: bool = True, max_requests: int = MAX_REQUESTS) -> None:
        self.check_spec = check_spec  # off only for requests that carry extras on purpose (per-call options)
        self.max_requests = max_requests
        self.routes: dict[str, list[Reply]] = {}
        self.requests: list[httpx.Request] = []
        self.bodies: list[bytes] = []

    def on(self, route: str, *replies: Reply) -> FakeAPI:
        """Script the replies for ``route`` (``"GET /batches/batch_1"``; the path is under /v1)."""
        self.routes[route] = list(replies)
        return self

    def calls(self, route: str) -> list[httpx.Request]:
        """The requests that reached ``route``."""
        method, path = route.split(" ", 1)
        return [r for r in self.requests if r.method == method and r.url.path == "/v1" + path]

    def __call__(self, request: httpx.Request) -> httpx.Response:
        if len(self.requests) >= self.max_requests:
            raise RequestBudgetExceeded(f"more than {self.max_requests} requests: {request.method} {request.url}")
        self.bodies.append(request.read())
        if self.check_spec:
            check_request(request)  # every request a unit test sends must be one the spec allows
        self.requests.append(request)
        path = request.url.path.removeprefix("/v1")
        replies = self.routes.get(f"{request.method} {path}") or self.routes.get(f"{request.method} {request.url}")
        if not replies:
            return httpx.Response(404, text="404 page not found")
        reply = replies.pop(0) if len(replies) > 1 else replies[0]
        if isinstance(reply, Exception):
            raise reply
        if callable(reply) and not isinstance(reply, httpx.Response):
            return reply(request)
        # A fresh Response over the same (re-iterable) stream: a scripted reply may be served many times.
        return httpx.Response(reply.status_code, headers=reply.headers, stream=reply.stream)


class RequestBudget:
    """httpx request hooks (sync and async) that raise RequestBudgetExceeded on the request after ``limit``.

    For a client that talks to a real server (the emulator), where FakeAPI's own bound does not apply.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.sent = 0

    def __call__(self, request: httpx.Request) -> None:
        self.sent += 1
        if self.sent > self.limit:
            raise RequestBudgetExceeded(f"more than {self.limit} requests: {request.method} {request.url}")

    async def hook(self, request: httpx.Request) -> None:
        """The async client's hook."""
        self(request)


def ok(body: Any) -> httpx.Response:
    """A 200 JSON reply."""
    return httpx.Response(200, json=body)


def envelope(data: Any, *, status: bool = True, code: int = 20000, message: str = "Ok") -> httpx.Response:
    """A 200 reply wrapped in the platform envelope."""
    return httpx.Response(200, json={"code": code, "message": message, "status": status, "data": data})


class BrokenStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """A body that sends ``chunks`` and then, if ``fail``, drops the connection."""

    def __init__(self, chunks: list[bytes], *, fail: bool) -> None:
        self.chunks = chunks
        self.fail = fail

    def __iter__(self) -> Iterator[bytes]:
        yield from self.chunks
        if self.fail:
            raise httpx.ReadError("connection dropped")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        for chunk in self.chunks:
            yield chunk
        if self.fail:
            raise httpx.ReadError("connection dropped")


def stream(chunks: list[bytes], *, fail: bool = False) -> httpx.Response:
    """A 200 streamed body of ``chunks``, optionally broken off at the end."""
    return httpx.Response(200, stream=BrokenStream(chunks, fail=fail))


Client = SiliconFlow | AsyncSiliconFlow


def make_client(mode: str, api: FakeAPI, **options: Any) -> Client:
    """A sync or async client whose requests go to ``api``."""
    transport = httpx.MockTransport(api)
    options.setdefault("api_key", KEY)
    if mode == "sync":
        return SiliconFlow(base_url=BASE, http_client=httpx.Client(transport=transport), **options)
    return AsyncSiliconFlow(base_url=BASE, http_client=httpx.AsyncClient(transport=transport), **options)


def run(value: Any) -> Any:
    """Resolve what a sync or async client call returned: await coroutines, drain iterators into lists."""
    if inspect.iscoroutine(value):
        return run(asyncio.run(value))
    if hasattr(value, "__aiter__"):

        async def drain() -> list[Any]:
            return [item async for item in value]

        return asyncio.run(drain())
    if hasattr(value, "__next__") or type(value).__name__.endswith("Pager"):
        return list(value)
    return value


def body_json(request: httpx.Request) -> Any:
    """The JSON body a request carried."""
    return json.loads(request.content)
