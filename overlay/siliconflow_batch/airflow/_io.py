"""Where the operator's input and output live: local paths, or any fsspec URL when fsspec is installed."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path
from typing import IO, Any

__all__ = ["fetch_input", "is_url", "job_id_for", "sha256_of", "upload_output"]

_CHUNK = 1 << 20
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")
MAX_JOB_ID = 200  # the library's limit on a job id


def is_url(location: str) -> bool:
    """Whether ``location`` is a URL for fsspec (``s3://...``, ``gs://...``, ``memory://...``), not a local path.

    ``file://`` URLs are local paths too, read and written directly.
    """
    return "://" in location and not location.startswith("file://")


def local_path(location: str) -> Path:
    """The local path of a plain path or a ``file://`` URL."""
    return Path(location[len("file://") :] if location.startswith("file://") else location)


def _open(url: str, mode: str) -> Any:
    try:
        import fsspec
    except ImportError as missing:
        raise ImportError(f"{url} is a URL: reading and writing URLs needs fsspec (pip install fsspec)") from missing
    return fsspec.open(url, mode)


def sha256_of(path: Path) -> str:
    """The SHA-256 of a file's bytes, read in chunks."""
    digest = hashlib.sha256()
    with path.open("rb") as source:
        while chunk := source.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _copy(source: IO[bytes], target: IO[bytes]) -> str:
    digest = hashlib.sha256()
    while chunk := source.read(_CHUNK):
        digest.update(chunk)
        target.write(chunk)
    return digest.hexdigest()


def fetch_input(url: str, target: Path) -> str:
    """Copy the input at ``url`` to ``target`` (atomically: a partial copy is never left there); its SHA-256."""
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(target.name + ".partial")
    with _open(url, "rb") as source, partial.open("wb") as out:
        sha = _copy(source, out)
    os.replace(partial, target)
    return sha


def upload_output(local: Path, url: str) -> None:
    """Copy the results written at ``local`` to ``url``."""
    with local.open("rb") as source, _open(url, "wb") as out:
        shutil.copyfileobj(source, out, _CHUNK)


def job_id_for(dag_id: str, task_id: str, run_id: str, map_index: int, input_sha256: str) -> str:
    """The job id of one task of one DAG run over one input: the same for every try of the task.

    ``dag.task.run[.map_index].sha12``, each part made safe for a directory name, cut to the library's 200.
    """
    parts = [dag_id, task_id, run_id] + ([str(map_index)] if map_index >= 0 else [])
    tail = "." + input_sha256[:12]
    head = ".".join(_UNSAFE.sub("_", part) for part in parts)
    if len(head) + len(tail) > MAX_JOB_ID:  # cut, keeping what was cut told apart by its hash
        mark = "~" + hashlib.sha256(head.encode()).hexdigest()[:8]
        head = head[: MAX_JOB_ID - len(tail) - len(mark)] + mark
    return head + tail
