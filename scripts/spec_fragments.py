"""Load the vendor's per-endpoint OpenAPI fragments and merge them into one document.

A fragment is either the vendor's Markdown page with one embedded ```` ```yaml ```` block, or a plain YAML
file (the fragments we transcribed from rendered pages). Merging is mechanical: it never fixes anything,
it only refuses contradictions it cannot resolve (the fixes are spec/corrections.yaml's job).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

__all__ = ["FragmentError", "load_fragment", "load_fragments", "merge_fragments", "repeated_base_path"]

HTTP_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})
_YAML_BLOCK = re.compile(r"^(`{3,})yaml[^\n]*\n(.*?)^\1\s*$", re.S | re.M)


class FragmentError(Exception):
    """A fragment cannot be read, or two fragments contradict each other."""


def load_fragment(path: Path) -> dict[str, Any]:
    """Return the OpenAPI document held by one fragment file (Markdown page or YAML)."""
    text = path.read_text(encoding="utf-8")
    # A fetched page is stored under its fragment's name whatever that name ends with, so a page is known by
    # its content too: a fenced yaml block at the start of a line, which no plain YAML document can have.
    if path.suffix == ".md" or _YAML_BLOCK.search(text):
        blocks = _YAML_BLOCK.findall(text)
        if len(blocks) != 1:
            raise FragmentError(f"{path.name}: expected one embedded yaml block, found {len(blocks)}")
        text = blocks[0][1]
    document = yaml.safe_load(text)
    if not isinstance(document, dict) or "paths" not in document:
        raise FragmentError(f"{path.name}: not an OpenAPI document (no 'paths')")
    return document


def load_fragments(directory: Path) -> list[tuple[str, dict[str, Any]]]:
    """Load every fragment in ``directory``, in file-name order, as (file name, document) pairs."""
    files = sorted(p for p in directory.iterdir() if p.suffix in {".md", ".yaml", ".yml"})
    if not files:
        raise FragmentError(f"no fragments in {directory}")
    return [(p.name, load_fragment(p)) for p in files]


def merge_fragments(fragments: list[tuple[str, dict[str, Any]]]) -> dict[str, Any]:
    """Merge fragments into one document.

    Operations are unioned (one path and method defined twice is an error); everything else is merged
    key by key, and equal values may repeat, but two different values at the same place are an error
    naming both fragments.
    """
    merged: dict[str, Any] = {}
    origin: dict[str, str] = {}
    for name, document in fragments:
        _refuse_repeated_base_paths(name, document)
        for key, value in document.items():
            if key == "paths":
                _merge_paths(merged.setdefault("paths", {}), value, name, origin)
            else:
                merged[key] = _merge_value(merged.get(key, _MISSING), value, f"$.{key}", name, origin)
    return merged


def repeated_base_path(path: str, servers: Any) -> str | None:
    """The base path of a server URL that ``path`` starts with again (``/v1`` for ``/v1/batches`` under ``.../v1``)."""
    found = _repeated_server(path, servers)
    return found[0] if found else None


def _repeated_server(path: str, servers: Any) -> tuple[str, str] | None:
    for server in servers if isinstance(servers, list) else []:
        url = server.get("url") if isinstance(server, dict) else None
        base = urlsplit(url).path.rstrip("/") if isinstance(url, str) else ""
        if isinstance(url, str) and base and (path == base or path.startswith(base + "/")):
            return base, url
    return None


def _refuse_repeated_base_paths(name: str, document: dict[str, Any]) -> None:
    """A path that repeats the server's base path would be called at ``.../v1/v1/...``: refuse it by name.

    Checked here, before any correction runs, so the corrections that target the right path are never reported
    as stale (deleting them would be the wrong fix); the message says what the page changed instead.
    """
    for path in document.get("paths") or {}:
        found = _repeated_server(path, document.get("servers"))
        if found is None:
            continue
        base, url = found
        raise FragmentError(
            f"{name}: `{path}` repeats the server URL's `{base}` ({url}), so the client would call "
            f"{url.rstrip('/')}{path}. The page changed its path, it did not fix anything: delete no correction. "
            f"The path without the repetition is `{path[len(base) :] or '/'}`; keep the fragment as it was "
            "(git checkout it) and report the page to the vendor, or move the server's base path into the paths "
            "in every fragment at once."
        )


class _Missing:
    pass


_MISSING: Any = _Missing()


def _merge_paths(paths: dict[str, Any], new: dict[str, Any], name: str, origin: dict[str, str]) -> None:
    for path, item in new.items():
        target = paths.setdefault(path, {})
        for key, value in item.items():
            where = f"$.paths[{path!r}].{key}"
            if key in HTTP_METHODS and key in target:
                raise FragmentError(f"{name}: {key.upper()} {path} is already defined by {origin[where]}")
            target[key] = _merge_value(target.get(key, _MISSING), value, where, name, origin)
            origin.setdefault(where, name)


def _merge_value(old: Any, new: Any, where: str, name: str, origin: dict[str, str]) -> Any:
    if old is _MISSING:
        origin[where] = name
        return new
    if isinstance(old, dict) and isinstance(new, dict):
        for key, value in new.items():
            old[key] = _merge_value(old.get(key, _MISSING), value, f"{where}.{key}", name, origin)
        return old
    if old != new:
        raise FragmentError(
            f"{name}: {where} is {new!r} here but {old!r} in {origin.get(where, 'an earlier fragment')}"
        )
    return old
