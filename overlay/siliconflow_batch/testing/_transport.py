"""The emulator in-process: an httpx.MockTransport, for sync and async clients alike."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING

import httpx

if TYPE_CHECKING:
    from ._app import Emulator

__all__ = ["make_transport"]


class _CutStream(httpx.SyncByteStream, httpx.AsyncByteStream):
    """Half a body, then the connection closes."""

    def __init__(self, body: bytes) -> None:
        self.body = body

    def __iter__(self) -> Iterator[bytes]:
        yield self.body[: len(self.body) // 2]
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")

    async def __aiter__(self) -> AsyncIterator[bytes]:
        yield self.body[: len(self.body) // 2]
        raise httpx.RemoteProtocolError("peer closed connection without sending complete message body")


def make_transport(emulator: Emulator) -> httpx.MockTransport:
    """Serve ``emulator`` through httpx without a socket."""

    def handler(request: httpx.Request) -> httpx.Response:
        target = request.url.raw_path.decode("ascii")
        answer = emulator.handle(request.method, target, dict(request.headers), request.read())
        if answer.delay:
            time.sleep(answer.delay)
        if answer.drop:
            raise httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)
        body = answer.file.read_bytes() if answer.file is not None else answer.body
        if answer.truncate:
            headers = {**answer.headers, "Content-Length": str(len(body))}
            return httpx.Response(answer.status, headers=headers, stream=_CutStream(body))
        return httpx.Response(answer.status, headers=answer.headers, content=body)

    return httpx.MockTransport(handler)
