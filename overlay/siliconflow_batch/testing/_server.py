"""The emulator as a real HTTP server on a loopback port, in a background thread."""

from __future__ import annotations

import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import TYPE_CHECKING, Self

if TYPE_CHECKING:
    from ._app import Emulator

__all__ = ["RunningServer", "start_server"]


class RunningServer:
    """A running emulator server: ``url`` is its base URL (with /v1); ``close()`` stops it."""

    def __init__(self, server: ThreadingHTTPServer, thread: threading.Thread, base_path: str) -> None:
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


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: object, client_address: object) -> None:
        # A client that hangs up (a timeout, a test's dropped connection) is not the server's error.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)  # type: ignore[arg-type]


def start_server(emulator: Emulator, host: str, port: int) -> RunningServer:
    """Bind ``host:port`` (0 picks a free port) and serve ``emulator`` until closed."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        disable_nagle_algorithm = True  # headers and body go out at once: no 40 ms delayed-ACK stall per request

        def log_message(self, format: str, *args: object) -> None:  # quiet: the client logs requests
            pass

        def _answer(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            headers = {k.lower(): v for k, v in self.headers.items()}
            answer = emulator.handle(self.command, self.path, headers, body)
            if answer.delay:
                time.sleep(answer.delay)
            if answer.drop:
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.send_response(answer.status)
            for name, value in answer.headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(answer.body)))
            if answer.truncate:
                self.send_header("Connection", "close")
            self.end_headers()
            if answer.truncate:
                self.wfile.write(answer.body[: len(answer.body) // 2])
                self.wfile.flush()
                self.close_connection = True
                self.connection.shutdown(socket.SHUT_RDWR)
                return
            self.wfile.write(answer.body)

        do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = _answer

    server = _QuietServer((host, port), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="siliconflow-emulator", daemon=True)
    thread.start()
    return RunningServer(server, thread, emulator.base_path)
