"""Apply spec/corrections.yaml, an OpenAPI Overlay 1.1 document, to the merged spec.

Targets are RFC 9535 JSONPath, evaluated by python-jsonpath (strict mode). Actions are the Overlay's
``update`` (recursive merge, arrays appended), ``remove`` and ``copy``. Two conventions of ours ride on the
Overlay's ``x-`` extensions: every action names the correction it belongs to (``x-correction``), and its
``description`` is that action's reason. Consecutive actions with one ``x-correction`` form one correction.

Unlike a general overlay tool, a correction here must still be needed: a target that matches nothing, an
action that changes nothing, or a correction whose actions together leave the document as it was, means
the vendor changed the page under it, and the run fails naming that correction.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jsonpath
import yaml

__all__ = [
    "Correction",
    "CorrectionError",
    "StaleCorrectionError",
    "apply_corrections",
    "load_corrections",
]

_JSONPATH = jsonpath.JSONPathEnvironment(strict=True)
_SUPPORTED_VERSIONS = ("1.0.", "1.1.")


class CorrectionError(Exception):
    """The corrections file is malformed, or an action cannot be applied."""


class StaleCorrectionError(CorrectionError):
    """A correction no longer applies: its target is gone or the vendor already fixed what it fixes."""

    def __init__(self, correction: str, message: str) -> None:
        super().__init__(f"stale correction {correction!r}: {message}")
        self.correction = correction


class _StaleAction(Exception):
    """One action that no longer applies; the correction collects them and says which to delete.

    ``moved`` marks an action whose target is gone because a page changed a path or an operation, not because the
    vendor fixed the defect: deleting it would be the wrong fix, so no deletion is advised.
    """

    def __init__(self, message: str, *, moved: bool = False) -> None:
        super().__init__(message)
        self.moved = moved


_PATH_TARGET = re.compile(r"^\$\.paths\[(['\"])(?P<path>.+?)\1\](?:\.(?P<method>[a-z]+)\b|\[(?P<methods>[^\]]+)\])?")
_METHODS = frozenset({"get", "put", "post", "delete", "options", "head", "patch", "trace"})


@dataclass(frozen=True)
class Correction:
    """One named correction: a reason and the overlay actions that carry it out."""

    id: str
    reason: str
    actions: tuple[dict[str, Any], ...] = field(default_factory=tuple)


def load_corrections(path: Path) -> list[Correction]:
    """Read an Overlay document and group its actions into corrections."""
    overlay = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(overlay, dict) or not str(overlay.get("overlay", "")).startswith(_SUPPORTED_VERSIONS):
        raise CorrectionError(f"{path.name}: not an Overlay 1.0 or 1.1 document")
    actions = overlay.get("actions")
    if not isinstance(actions, list) or not actions:
        raise CorrectionError(f"{path.name}: 'actions' must be a non-empty list")
    corrections: list[Correction] = []
    seen: set[str] = set()
    for index, action in enumerate(actions, start=1):
        _check_action(path.name, index, action)
        name = action["x-correction"]
        if corrections and corrections[-1].id == name:
            last = corrections[-1]
            corrections[-1] = Correction(last.id, last.reason, (*last.actions, action))
            continue
        if name in seen:
            raise CorrectionError(f"{path.name}: action {index}: the actions of {name!r} must be consecutive")
        seen.add(name)
        corrections.append(Correction(name, action["description"], (action,)))
    return corrections


def apply_corrections(
    document: dict[str, Any],
    corrections: Iterable[Correction],
    *,
    skip: Iterable[str] = (),
    strict: bool = True,
) -> dict[str, Any]:
    """Return a corrected copy of ``document``.

    ``skip`` leaves out the named corrections (the tests use it to show what each one fixes); with
    ``strict`` off, actions whose targets match nothing are passed over instead of failing.
    """
    result = copy.deepcopy(document)
    skipped = set(skip)
    for correction in corrections:
        if correction.id in skipped:
            continue
        before = copy.deepcopy(result)
        stale: list[tuple[int, dict[str, Any], str]] = []
        moved: list[str] = []
        for number, action in enumerate(correction.actions, start=1):
            try:
                result = _apply_action(result, correction.id, number, action, strict)
            except _StaleAction as why:
                if why.moved:
                    moved.append(f"action {number}: {why}")
                else:
                    stale.append((number, action, str(why)))
        if moved:
            raise StaleCorrectionError(correction.id, _what_changed(moved))
        if stale or (strict and result == before):
            raise StaleCorrectionError(correction.id, _what_to_delete(correction, stale))
    return result


def _what_to_delete(correction: Correction, stale: list[tuple[int, dict[str, Any], str]]) -> str:
    """Which actions to delete from spec/corrections.yaml, quoted, so that no action still needed goes with them."""
    total = len(correction.actions)
    if not stale or len(stale) == total:
        reasons = "; ".join(f"action {n}: {why}" for n, _, why in stale) or "its actions together change nothing"
        return f"{reasons}. Delete the whole correction (all {total} of its actions) from spec/corrections.yaml."
    lines = [f"{len(stale)} of its {total} actions no longer apply; the other {total - len(stale)} are still needed."]
    for number, action, why in stale:
        text = yaml.safe_dump([action], sort_keys=False, allow_unicode=True, width=200).rstrip()
        quoted = "\n".join("    " + row for row in text.splitlines())
        lines.append(f"action {number}: {why}. Delete only this action:\n{quoted}")
    return "\n".join(lines)


def _what_changed(moved: list[str]) -> str:
    """The message for actions whose targets a page moved: what changed, and that no deletion is the fix."""
    return (
        "; ".join(moved) + ". A page changed a path or an operation, it did not fix what this correction fixes: "
        "delete nothing. Retarget the correction if the new path or operation is right, or keep the fragment as "
        "it was and report the page to the vendor."
    )


def _diagnose_missing(document: dict[str, Any], target: str) -> _StaleAction:
    """Why ``target`` matches nothing: a path or operation the pages no longer have (moved), or just gone."""
    plain = _StaleAction(f"target {target} matches nothing")
    match = _PATH_TARGET.match(target)
    paths = document.get("paths")
    if match is None or not isinstance(paths, dict):
        return plain
    path = match["path"]
    if path not in paths:
        return _StaleAction(f"target {target} matches nothing: {_where_path_went(document, path)}", moved=True)
    names = [match["method"]] if match["method"] else re.findall(r"['\"]([a-z]+)['\"]", match["methods"] or "")
    gone = [m for m in names if m in _METHODS and m not in paths[path]]
    if gone:
        listed = ", ".join(m.upper() for m in gone)
        return _StaleAction(
            f"target {target} matches nothing: the pages no longer define {listed} {path} "
            f"({path} now has {', '.join(m.upper() for m in paths[path] if m in _METHODS) or 'no operation'})",
            moved=True,
        )
    return plain


def _where_path_went(document: dict[str, Any], path: str) -> str:
    from spec_fragments import repeated_base_path

    for other in document["paths"]:
        base = repeated_base_path(other, document.get("servers"))
        if base is not None and other[len(base) :] == path:
            return f"the path {path} is now `{other}`, and `{other}` repeats the server URL's `{base}`"
    tail = path.rstrip("/").rsplit("/", 1)[-1]
    near = sorted(other for other in document["paths"] if other.rstrip("/").endswith("/" + tail))
    return f"the path {path} is in no fragment now" + (f" (the fragments have {', '.join(near)})" if near else "")


def _check_action(filename: str, index: int, action: Any) -> None:
    where = f"{filename}: action {index}"
    if not isinstance(action, dict):
        raise CorrectionError(f"{where}: not a mapping")
    for key in ("x-correction", "description", "target"):
        if not isinstance(action.get(key), str) or not action[key].strip():
            raise CorrectionError(f"{where}: {key!r} must be a non-empty string")
    verbs = [verb for verb in ("update", "remove", "copy") if verb in action]
    if len(verbs) != 1:
        raise CorrectionError(f"{where}: needs exactly one of update, remove, copy (has {verbs or 'none'})")
    if "remove" in action and action["remove"] is not True:
        raise CorrectionError(f"{where}: 'remove' must be true")
    try:
        _JSONPATH.compile(action["target"])
        if "copy" in action:
            _JSONPATH.compile(action["copy"])
    except jsonpath.JSONPathError as exc:
        raise CorrectionError(f"{where}: bad JSONPath: {exc}") from exc


def _apply_action(
    document: dict[str, Any], name: str, number: int, action: dict[str, Any], strict: bool
) -> dict[str, Any]:
    target = action["target"]
    matches = [tuple(match.parts) for match in _JSONPATH.finditer(target, document)]
    if not matches:
        if strict:
            raise _diagnose_missing(document, target)
        return document
    if "remove" in action:
        # Remove from the deepest and last match first so earlier indices stay valid.
        for parts in sorted(matches, key=lambda p: (len(p), p), reverse=True):
            if not parts:
                raise CorrectionError(f"correction {name!r}: action {number}: cannot remove the root")
            del _resolve(document, parts[:-1])[parts[-1]]
        return document
    update = _copy_source(document, name, number, action["copy"]) if "copy" in action else action["update"]
    for parts in matches:
        node = _resolve(document, parts)
        merged = _merge(copy.deepcopy(node), copy.deepcopy(update))
        if strict and merged == node:
            raise _StaleAction(f"{target} already holds what the correction sets")
        if not parts:
            document = merged
        else:
            _resolve(document, parts[:-1])[parts[-1]] = merged
    return document


def _copy_source(document: dict[str, Any], name: str, number: int, source: str) -> Any:
    found = _JSONPATH.findall(source, document)
    if len(found) != 1:
        raise StaleCorrectionError(name, f"action {number}: copy source {source} matches {len(found)} nodes, not one")
    return copy.deepcopy(found[0])


def _resolve(document: Any, parts: tuple[Any, ...]) -> Any:
    node = document
    for part in parts:
        node = node[part]
    return node


def _merge(node: Any, update: Any) -> Any:
    """Merge as the Overlay does: objects recursively, arrays appended, anything else replaced."""
    if isinstance(node, dict) and isinstance(update, dict):
        for key, value in update.items():
            node[key] = _merge(node[key], value) if key in node else value
        return node
    if isinstance(node, list):
        return node + (update if isinstance(update, list) else [update])
    return update
