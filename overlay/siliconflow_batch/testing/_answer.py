"""What the emulator answers to one request; the in-process transport and the HTTP server both send it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["EmulatedResponse"]


@dataclass
class EmulatedResponse:
    """What the emulator answers: status, headers and body, or a broken connection (``drop``/``truncate``).

    A stored file is answered as ``file`` (a path, streamed by the server) instead of ``body``.
    """

    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False
    truncate: bool = False
    delay: float = 0.0
    file: Path | None = None
