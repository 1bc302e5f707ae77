"""Writing a file so that it is either whole or absent: the one way this package writes user files."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

from ._exceptions import InputValidationError
from ._problem import Problem

__all__ = ["atomic_write", "check_destination"]


def check_destination(destination: Path, *, what: str = "destination") -> None:
    """Raise InputValidationError, before any work, if ``destination`` cannot become a file."""
    if destination.is_dir():
        raise InputValidationError(f"cannot write {destination}", [Problem(what, "is a directory; give a file path")])
    if not destination.parent.is_dir():
        reason = f"the folder {destination.parent} does not exist"
        if destination.parent.exists():
            reason = f"{destination.parent} is not a folder"
        raise InputValidationError(f"cannot write {destination}", [Problem(what, reason)])


@contextmanager
def atomic_write(destination: Path) -> Iterator[IO[bytes]]:
    """A new file beside ``destination`` that replaces it only once the block succeeds and it is on disk.

    The temporary name is short (a long but legal destination name must still work) and the file is created
    with mode 0666 less the umask, as ``open()`` would create ``destination`` itself (mkstemp's 0600 would not).
    """
    while True:
        temp = destination.parent / f".{secrets.token_hex(8)}.part"
        try:
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            break
        except FileExistsError:  # pragma: no cover - 64 random bits
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, destination)
    finally:
        temp.unlink(missing_ok=True)
