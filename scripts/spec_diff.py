"""What changed between two versions of spec/openapi.yaml, whether each change breaks callers, and the bump.

Breaking (major): an operation, a parameter, a schema field or an enum value removed; a parameter that
becomes required or a new required one; a type, format or reference changed; a field that may now be null.
Minor: an operation, an optional parameter, a field or an enum value added. Patch: anything else
(descriptions, examples, summaries). A changed constraint (pattern, maxLength, default) is minor.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["BUMPS", "Change", "diff_specs", "format_report", "required_bump"]

BUMPS = ("none", "patch", "minor", "major")
HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_TYPE_KEYS = ("type", "format", "$ref", "items")
_DOC_KEYS = ("description", "summary", "example", "examples", "title", "deprecated")


@dataclass(frozen=True)
class Change:
    """One change: where, what, and the bump it calls for (major, minor or patch)."""

    where: str
    what: str
    bump: str

    @property
    def breaking(self) -> bool:
        """True for a change that can break a caller's code."""
        return self.bump == "major"

    def __str__(self) -> str:
        label = {"major": "BREAKING", "minor": "added", "patch": "changed"}[self.bump]
        return f"[{label}] {self.where}: {self.what}"


def required_bump(changes: list[Change]) -> str:
    """The largest bump the changes call for (``none`` when there is none)."""
    return max((c.bump for c in changes), key=BUMPS.index, default="none")


def format_report(changes: list[Change]) -> str:
    """The report as printed: one line per change, then the bump."""
    if not changes:
        return "API change report: no changes"
    lines = ["API change report:", *(f"  {c}" for c in changes), f"version bump: {required_bump(changes)}"]
    return "\n".join(lines)


def diff_specs(old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    """Every change from ``old`` to ``new``: operations, parameters, schemas (fields, types, enums)."""
    changes: list[Change] = []
    old_ops, new_ops = _operations(old), _operations(new)
    for key in sorted(old_ops.keys() - new_ops.keys()):
        changes.append(Change(key, "operation removed", "major"))
    for key in sorted(new_ops.keys() - old_ops.keys()):
        changes.append(Change(key, "operation added", "minor"))
    for key in sorted(old_ops.keys() & new_ops.keys()):
        changes += _operation_changes(key, old_ops[key], new_ops[key])
    old_schemas = old.get("components", {}).get("schemas", {})
    new_schemas = new.get("components", {}).get("schemas", {})
    for name in sorted(old_schemas.keys() - new_schemas.keys()):
        changes.append(Change(f"schema {name}", "schema removed", "major"))
    for name in sorted(new_schemas.keys() - old_schemas.keys()):
        changes.append(Change(f"schema {name}", "schema added", "minor"))
    for name in sorted(old_schemas.keys() & new_schemas.keys()):
        changes += _schema_changes(f"schema {name}", old_schemas[name], new_schemas[name])
    if _without(old, ("paths", "components")) != _without(new, ("paths", "components")):
        changes.append(Change("document", "info, servers or security changed", "patch"))
    return changes


def _without(document: dict[str, Any], keys: tuple[str, ...]) -> dict[str, Any]:
    return {k: v for k, v in document.items() if k not in keys}


def _operations(spec: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {
        f"{method.upper()} {path}": operation
        for path, item in spec.get("paths", {}).items()
        for method, operation in item.items()
        if method in HTTP_METHODS
    }


def _operation_changes(where: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    changes: list[Change] = []
    old_params = {(p["in"], p["name"]): p for p in old.get("parameters", [])}
    new_params = {(p["in"], p["name"]): p for p in new.get("parameters", [])}
    for key in sorted(old_params.keys() - new_params.keys()):
        changes.append(Change(where, f"parameter {key[1]} ({key[0]}) removed", "major"))
    for key in sorted(new_params.keys() - old_params.keys()):
        required = new_params[key].get("required", False)
        what = f"{'required' if required else 'optional'} parameter {key[1]} ({key[0]}) added"
        changes.append(Change(where, what, "major" if required else "minor"))
    for key in sorted(old_params.keys() & new_params.keys()):
        before, after = old_params[key], new_params[key]
        if after.get("required", False) and not before.get("required", False):
            changes.append(Change(where, f"parameter {key[1]} became required", "major"))
        changes += _schema_changes(f"{where} parameter {key[1]}", before.get("schema", {}), after.get("schema", {}))
    old_body = old.get("requestBody", {}).get("content", {})
    new_body = new.get("requestBody", {}).get("content", {})
    for media in sorted(old_body.keys() | new_body.keys()):
        if media not in new_body:
            changes.append(Change(where, f"request body {media} removed", "major"))
        elif media not in old_body:
            changes.append(Change(where, f"request body {media} added", "minor"))
        else:
            changes += _schema_changes(
                f"{where} request", old_body[media].get("schema", {}), new_body[media].get("schema", {})
            )
    old_responses, new_responses = old.get("responses", {}), new.get("responses", {})
    for status in sorted(old_responses.keys() | new_responses.keys()):
        if status not in new_responses:
            changes.append(Change(where, f"response {status} removed", "major"))
        elif status not in old_responses:
            changes.append(Change(where, f"response {status} added", "minor"))
        elif old_responses[status] != new_responses[status]:
            changes += _response_changes(f"{where} -> {status}", old_responses[status], new_responses[status])
    for name in (*_DOC_KEYS, "operationId"):
        if old.get(name) != new.get(name):
            changes.append(Change(where, f"{name} changed", "major" if name == "operationId" else "patch"))
    return changes


def _response_changes(where: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    if "$ref" in old or "$ref" in new:
        return [Change(where, "response reference changed", "major")] if old.get("$ref") != new.get("$ref") else []
    changes: list[Change] = []
    old_content, new_content = old.get("content", {}), new.get("content", {})
    for media in sorted(old_content.keys() | new_content.keys()):
        if media not in new_content:
            changes.append(Change(where, f"{media} removed", "major"))
        elif media not in old_content:
            changes.append(Change(where, f"{media} added", "minor"))
        else:
            changes += _schema_changes(
                where, old_content[media].get("schema", {}), new_content[media].get("schema", {})
            )
    if old.get("description") != new.get("description"):
        changes.append(Change(where, "description changed", "patch"))
    return changes


def _schema_changes(where: str, old: dict[str, Any], new: dict[str, Any]) -> list[Change]:
    if old == new:
        return []
    changes: list[Change] = []
    for key in _TYPE_KEYS:
        if key == "items":
            if "items" in old and "items" in new:
                changes += _schema_changes(f"{where}[]", old["items"], new["items"])
            elif old.get("items") != new.get("items"):
                changes.append(Change(where, "items changed", "major"))
        elif old.get(key) != new.get(key):
            changes.append(Change(where, f"{key} changed from {old.get(key)!r} to {new.get(key)!r}", "major"))
    if new.get("nullable") and not old.get("nullable"):
        changes.append(Change(where, "may now be null", "major"))
    elif old.get("nullable") and not new.get("nullable"):
        changes.append(Change(where, "is no longer nullable", "minor"))
    old_enum, new_enum = old.get("enum"), new.get("enum")
    if old_enum is not None or new_enum is not None:
        for value in [v for v in (old_enum or []) if v not in (new_enum or [])]:
            changes.append(Change(where, f"enum value {value!r} removed", "major"))
        for value in [v for v in (new_enum or []) if v not in (old_enum or [])]:
            changes.append(Change(where, f"enum value {value!r} added", "minor"))
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
    for name in sorted(old_props.keys() - new_props.keys()):
        changes.append(Change(f"{where}.{name}", "field removed", "major"))
    for name in sorted(new_props.keys() - old_props.keys()):
        required = name in new_required
        changes.append(
            Change(
                f"{where}.{name}",
                f"{'required' if required else 'optional'} field added",
                "major" if required else "minor",
            )
        )
    for name in sorted(old_props.keys() & new_props.keys()):
        if name in new_required and name not in old_required:
            changes.append(Change(f"{where}.{name}", "became required", "major"))
        changes += _schema_changes(f"{where}.{name}", old_props[name], new_props[name])
    for key in ("oneOf", "anyOf", "allOf", "additionalProperties"):
        if old.get(key) != new.get(key):
            changes.append(Change(where, f"{key} changed", "major"))
    handled = {
        *_TYPE_KEYS,
        "nullable",
        "enum",
        "properties",
        "required",
        "oneOf",
        "anyOf",
        "allOf",
        "additionalProperties",
    }
    rest_old = {k: v for k, v in old.items() if k not in handled}
    rest_new = {k: v for k, v in new.items() if k not in handled}
    keys = sorted(k for k in rest_old.keys() | rest_new.keys() if rest_old.get(k) != rest_new.get(k))
    docs = [k for k in keys if k in _DOC_KEYS]
    rules = [k for k in keys if k not in _DOC_KEYS]  # pattern, maxLength, default...: behaviour, not words
    if docs:
        changes.append(Change(where, f"{', '.join(docs)} changed", "patch"))
    if rules:
        changes.append(Change(where, f"{', '.join(rules)} changed", "minor"))
    return changes
