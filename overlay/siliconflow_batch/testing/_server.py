"""The emulator as a real HTTP server on a loopback port, in a background thread.

HTTP/1.1 is parsed by h11 (already installed with httpx), not by hand: chunked bodies, a malformed or
negative Content-Length and other broken requests get a 400 from the parser's own rules. A request refused on
its head (no route, wrong key) is answered before its body is read, and bodies are spooled to disk past 1 MB.
"""

from __future__ import annotations

import socket
import socketserver
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from types import TracebackType
from typing import TYPE_CHECKING, Self

import h11

from ._answer import EmulatedResponse

if TYPE_CHECKING:
    from ._app import Emulator

__all__ = ["RunningServer", "start_server"]

_CHUNK = 256 * 1024
_SPOOL = 1024**2


class RunningServer:
    """A running emulator server: ``url`` is its base URL (with /v1); ``close()`` stops it."""

    def __init__(self, server: socketserver.ThreadingTCPServer, thread: threading.Thread, base_path: str) -> None:
        self._server = server
        self._thread = thread
        host, port = server.server_address[:2]
        self.port = int(port)
        self.url = f"http://{host!s}:{self.port}{base_path}"

    def close(self) -> None:
        """Stop serving and wait for the thread to end."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"RunningServer(url={self.url!r})"


class _Closed(Exception):
    """The peer went away, or the connection must end."""


class _Connection:
    """One client connection: h11 events in, emulator answers out, until either side closes."""

    def __init__(self, sock: socket.socket, emulator: Emulator) -> None:
        self.sock = sock
        self.emulator = emulator
        self.h11 = h11.Connection(h11.SERVER)

    def serve(self) -> None:
        try:
            while True:
                event = self._next()
                if not isinstance(event, h11.Request):
                    return
                self._answer(event)
                if self.h11.our_state is not h11.DONE or self.h11.their_state is not h11.DONE:
                    return
                self.h11.start_next_cycle()
        except h11.RemoteProtocolError as error:
            self._refuse(error.error_status_hint, f"bad request: {error}")
        except (_Closed, ConnectionError, h11.LocalProtocolError):
            return

    def _next(self) -> h11.Event | type[h11.PAUSED] | type[h11.NEED_DATA]:
        while True:
            event = self.h11.next_event()
            if event is h11.NEED_DATA:
                data = self.sock.recv(_CHUNK)
                self.h11.receive_data(data)  # b"" tells h11 the peer closed
                continue
            if isinstance(event, h11.ConnectionClosed) or event is h11.PAUSED:
                raise _Closed
            return event

    def _answer(self, request: h11.Request) -> None:
        method = request.method.decode("ascii", "replace").upper()
        target = request.target.decode("ascii", "replace")
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in request.headers}
        if method == "OPTIONS":
            self._send(EmulatedResponse(204, headers={"Allow": "GET, HEAD, POST, OPTIONS"}), read_body=True)
            return
        served = "GET" if method == "HEAD" else method
        early = self.emulator.refuse_early(served, target, headers)
        if early is not None:  # refused on its head: its body is never read, and the connection ends
            early.headers["Connection"] = "close"
            self._send(early, head_only=method == "HEAD")
            raise _Closed
        with tempfile.SpooledTemporaryFile(_SPOOL) as body:
            self._read_body(body.write)
            body.seek(0)
            answer = self.emulator.handle(served, target, headers, body)
        self._send(answer, head_only=method == "HEAD")

    def _read_body(self, write: Callable[[bytes], object]) -> None:
        while True:
            event = self._next()
            if isinstance(event, h11.Data):
                write(event.data)
            elif isinstance(event, h11.EndOfMessage):
                return

    def _send(self, answer: EmulatedResponse, *, head_only: bool = False, read_body: bool = False) -> None:
        if read_body:
            self._read_body(lambda data: None)
        if answer.delay:
            time.sleep(answer.delay)
        if answer.drop:
            self.sock.shutdown(socket.SHUT_RDWR)
            raise _Closed
        length = answer.file.stat().st_size if answer.file is not None else len(answer.body)
        headers = [(k, v) for k, v in answer.headers.items() if k.lower() != "content-length"]
        headers.append(("Content-Length", str(length)))
        if answer.truncate:
            headers.append(("Connection", "close"))
        self._write(self.h11.send(h11.Response(status_code=answer.status, headers=headers)))
        if not head_only:
            sent = 0
            for chunk in _chunks(answer):
                if answer.truncate and sent + len(chunk) > length // 2:
                    self._write(self.h11.send(h11.Data(data=chunk[: length // 2 - sent])))
                    self.sock.shutdown(socket.SHUT_RDWR)
                    raise _Closed
                self._write(self.h11.send(h11.Data(data=chunk)))
                sent += len(chunk)
        self._write(self.h11.send(h11.EndOfMessage()))

    def _refuse(self, status: int, text: str) -> None:
        if self.h11.our_state not in (h11.IDLE, h11.SEND_RESPONSE):
            return
        body = text.encode()
        headers = [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
        headers.append(("Connection", "close"))
        try:
            self._write(self.h11.send(h11.Response(status_code=status, headers=headers)))
            self._write(self.h11.send(h11.Data(data=body)))
            self._write(self.h11.send(h11.EndOfMessage()))
        except (h11.LocalProtocolError, OSError):
            pass

    def _write(self, data: bytes | None) -> None:
        if data:
            self.sock.sendall(data)


def _chunks(answer: EmulatedResponse) -> Iterator[bytes]:
    if answer.file is None:
        if answer.body:
            yield answer.body
        return
    with answer.file.open("rb") as handle:
        while chunk := handle.read(_CHUNK):
            yield chunk


class _Server(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True


def start_server(emulator: Emulator, host: str, port: int) -> RunningServer:
    """Bind ``host:port`` (0 picks a free port) and serve ``emulator`` until closed."""

    class Handler(socketserver.BaseRequestHandler):
        def handle(self) -> None:
            sock: socket.socket = self.request
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)  # no 40 ms delayed-ACK stall per answer
            _Connection(sock, emulator).serve()

    server = _Server((host, port), Handler)
    # A short poll: close() waits up to one poll interval for the loop to notice (0.5 s by default, per test).
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), name="siliconflow-emulator", daemon=True)
    thread.start()
    return RunningServer(server, thread, emulator.base_path)
