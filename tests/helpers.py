"""Shared helpers for the spec and generator tests."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from openapi_schema_validator import OAS30Validator

ROOT = Path(__file__).resolve().parent.parent
FRAGMENTS = ROOT / "spec" / "fragments"
SEEDS = ROOT.parent / "shared" / "seeds"
BATCH = "#/components/schemas/Batch"

GET_PAGE_BODY: dict[str, Any] = {  # the get-batch page's rendered 200 example
    "id": "batch_rdyqgrcgjg",
    "object": "batch",
    "endpoint": "/v1/chat/completions",
    "errors": [],
    "input_file_id": "file-jkvytbjtow",
    "completion_window": "24h",
    "status": "in_queue",
    "output_file_id": None,
    "error_file_id": None,
    "created_at": 1741685413,
    "in_progress_at": None,
    "expires_at": 1741771813,
    "finalizing_at": None,
    "completed_at": None,
    "failed_at": None,
    "expired_at": None,
    "cancelling_at": None,
    "cancelled_at": None,
    "request_counts": {},
    "metadata": {"description": "nightly eval job"},
}


def schema_errors(spec: dict[str, Any], schema: dict[str, Any], instance: Any) -> list[str]:
    """Validate ``instance`` against an OpenAPI 3.0 ``schema`` whose refs point into ``spec``."""
    root = {**schema, "components": spec.get("components", {})}
    return [error.message for error in OAS30Validator(root).iter_errors(instance)]


def media_schema(spec: dict[str, Any], path: str, method: str, status: str = "200") -> dict[str, Any]:
    """Return the JSON schema of one operation's response (or request body, with status ``"request"``)."""
    operation = spec["paths"][path][method]
    holder = operation["requestBody"] if status == "request" else operation["responses"][status]
    schema: dict[str, Any] = holder["content"]["application/json"]["schema"]
    return schema


def synthesize_example(schema: dict[str, Any], spec: dict[str, Any]) -> Any:
    """Build a body from a schema's property examples, as a mock server (Prism) does for static responses."""
    if "$ref" in schema:
        name = schema["$ref"].rsplit("/", 1)[-1]
        return synthesize_example(spec["components"]["schemas"][name], spec)
    if "example" in schema:
        return schema["example"]
    if schema.get("type") == "object" or "properties" in schema:
        return {key: synthesize_example(value, spec) for key, value in schema.get("properties", {}).items()}
    if schema.get("type") == "array":
        return [synthesize_example(schema.get("items", {}), spec)]
    return {"string": "string", "integer": 0, "boolean": True, "number": 0.0}.get(schema.get("type", ""))


def copy_tree(destination: Path) -> Path:
    """Copy what the regeneration reads and writes (spec/, scripts/, generated/, pyproject.toml) to ``destination``."""
    for part in ("spec", "scripts", "generated"):
        shutil.copytree(ROOT / part, destination / part, ignore=shutil.ignore_patterns("__pycache__"))
    if not (destination / "pyproject.toml").exists():
        shutil.copy(ROOT / "pyproject.toml", destination / "pyproject.toml")
    return destination


def run_regenerate(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Run scripts/regenerate.py of a copied tree with this interpreter (its tools on PATH)."""
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    return subprocess.run(
        [sys.executable, str(tree / "scripts" / "regenerate.py"), *args],
        capture_output=True,
        text=True,
        env=env,
        check=False,
        timeout=300,
    )


TOKEN360_BODY: dict[str, Any] = {  # the token360 page's example (OpenAI-compatible, request_counts filled in)
    "id": "batch_01abc",
    "object": "batch",
    "endpoint": "/v1/chat/completions",
    "status": "completed",
    "input_file_id": "file_abc123",
    "output_file_id": "file_output_xyz",
    "error_file_id": None,
    "completion_window": "24h",
    "request_counts": {"total": 2, "completed": 2, "failed": 0},
    "created_at": 1710000000,
    "in_progress_at": 1710000060,
    "completed_at": 1710003600,
    "expires_at": 1710086400,
    "metadata": {"job": "nightly"},
    "errors": None,
}
