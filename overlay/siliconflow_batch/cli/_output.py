"""How the command prints (human text or JSON, a live line that fits the terminal) and its exit codes."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any, TextIO

from .._problem import Problem
from ..types import Batch, timestamp_datetime

__all__ = [
    "CLOSED_PIPE",
    "FAILED",
    "INTERRUPTED",
    "OK",
    "TERMINATED",
    "USAGE",
    "Output",
    "bar",
    "clock",
    "fit",
    "iso",
    "plural",
    "table",
]

OK, FAILED, USAGE, INTERRUPTED = 0, 1, 2, 130


TERMINATED = 128 + 15  # SIGTERM: as interrupted, the batches keep running and the message says how to resume


CLOSED_PIPE = 128 + 13  # as a command killed by SIGPIPE: the reader of stdout went away (say `| head`)


class Output:
    """Where and how the command prints: human text or JSON, progress bar or one line per change."""

    def __init__(self, as_json: bool, stream: TextIO = sys.stdout, err: TextIO = sys.stderr) -> None:
        self.as_json = as_json
        self.stream = stream
        self.err = err
        self.tty = err.isatty()
        self._bar_open = False
        self._lock = threading.Lock()
        self._shown: Callable[[int], str] | None = None
        self._drawn = 0  # the length of the live line drawn last, to blank what a shorter one leaves
        self._ticker: threading.Thread | None = None
        self._stop = threading.Event()

    def data(self, value: Any, human: Callable[[], str]) -> None:
        """Print ``value`` as JSON, or ``human()`` as text."""
        self.close_bar()
        print(json.dumps(value, indent=2, default=str) if self.as_json else human(), file=self.stream)

    def note(self, text: str) -> None:
        """A message for the person at the terminal (stderr, so stdout stays parseable)."""
        self.close_bar()
        print(text, file=self.err)

    def fail(self, message: str, code: int, problems: Sequence[Problem] = ()) -> int:
        """An error that ends the command: ``error: ...``, or with --json one JSON object on one line of stderr."""
        if not self.as_json:
            self.note(f"error: {message}")
            return code
        self.close_bar()
        value: dict[str, Any] = {"error": message, "exit_code": code}
        if problems:
            value["problems"] = [{"line": p.line, "field": p.field, "message": p.message} for p in problems]
        print(json.dumps(value, ensure_ascii=False), file=self.err)
        return code

    def failed_requests(self, failed: int, args: argparse.Namespace, code: int) -> int:
        """The exit code once requests ended: ``code``, or 1 with --fail-on-errors when any failed."""
        if code != OK or not getattr(args, "fail_on_errors", False) or failed == 0:
            return code
        return self.fail(f"{plural(failed, 'request')} ended failed (--fail-on-errors)", FAILED)

    def progress(self, batch: Batch, started: float) -> None:
        """Show the batch's progress: a live bar on a terminal (its clock ticks), a line per change otherwise."""
        if not self.tty:
            total, completed, failed = batch.counts
            counts = f"{completed}/{total} done, {failed} failed" if total else "counting requests"
            print(f"[{clock(started)}] {batch.id} {batch.status}: {counts}", file=self.err, flush=True)
            return

        def line(width: int) -> str:
            total, completed, failed = batch.counts
            counts = f"{completed}/{total} done, {failed} failed" if total else "counting requests"
            parts = [(2, bar(completed + failed, total)), (0, f"{batch.status:<11} {counts}"), (1, clock(started))]
            return fit(parts, width)

        self.live(line)

    def width(self) -> int:
        """The columns the live line may take: the terminal's less one, so that it never wraps."""
        try:
            columns = os.get_terminal_size(self.err.fileno()).columns
        except (AttributeError, OSError, ValueError):  # not a real terminal (a test's stream): $COLUMNS, or 80
            columns = shutil.get_terminal_size().columns
        return max(columns - 1, 20)

    def live(self, line: Callable[[int], str]) -> None:
        """Show ``line(width)`` as the live line on a terminal, redrawn each second so that its clock moves."""
        with self._lock:
            self._shown = line
            self._draw()
        if self._ticker is None:
            self._stop.clear()
            self._ticker = threading.Thread(target=self._tick_forever, name="progress-clock", daemon=True)
            self._ticker.start()

    def tick(self) -> None:
        """Redraw the live bar with the current time, so the clock moves while the status does not."""
        with self._lock:
            if self._bar_open and self._shown is not None:
                self._draw()

    def _tick_forever(self) -> None:
        while not self._stop.wait(1.0):
            self.tick()

    def _draw(self) -> None:
        assert self._shown is not None
        width = self.width()
        text = self._shown(width)[:width]
        blank = " " * max(0, min(self._drawn, width) - len(text))
        print(f"\r{text}{blank}", end="", file=self.err, flush=True)
        self._drawn = len(text)
        self._bar_open = True

    def close_bar(self) -> None:
        """End a live progress line (and its clock) before printing anything else."""
        self._stop.set()
        if self._ticker is not None:
            self._ticker.join()
            self._ticker = None
        with self._lock:
            if self._bar_open:
                print(file=self.err)
                self._bar_open = False
                self._drawn = 0


def fit(parts: Sequence[tuple[int, str]], width: int | None) -> str:
    """Join ``parts`` (each with its rank: 0 always shown, the highest dropped first) to fit in ``width``.

    What still does not fit is cut, ending in an ellipsis: a live line shortens, and never wraps.
    """
    kept = list(parts)
    while width is not None and len("  ".join(t for _, t in kept)) > width and any(r for r, _ in kept):
        drop = max(range(len(kept)), key=lambda i: kept[i][0])
        del kept[drop]
    text = "  ".join(t for _, t in kept)
    if width is not None and len(text) > width:
        text = text[: width - 1] + "\u2026"
    return text


def bar(done: int, total: int, width: int = 30) -> str:
    filled = int(width * done / total) if total else 0
    return "[" + "#" * filled + "-" * (width - filled) + "]"


def clock(started: float) -> str:
    elapsed = time.monotonic() - started
    return f"{int(elapsed // 60)}:{int(elapsed % 60):02d}"


def plural(count: int, noun: str, nouns: str | None = None) -> str:
    """``1 request``, ``2 requests`` (``nouns``: a plural that is not ``noun + "s"``)."""
    return f"{count} {noun if count == 1 else nouns or noun + 's'}"


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    cells = [["-" if c is None else str(c) for c in row] for row in rows]
    widths = [max([len(h), *(len(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    lines = ["  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))]
    lines += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(lines)


def iso(timestamp: object) -> str:
    """A timestamp (seconds or milliseconds) as ISO 8601; anything else as it came, "-" when absent."""
    when = timestamp_datetime(timestamp)
    if when is not None:
        return when.isoformat()
    return "-" if timestamp is None else str(timestamp)
