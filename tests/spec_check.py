"""Checks of HTTP traffic against spec/openapi.yaml, so that the spec, the emulator and the client cannot drift.

Every request the unit tests' fake API receives goes through :func:`check_request`; the emulator tests also
check every response with :func:`check_response`.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import re
from typing import Any
from urllib.parse import unquote

import httpx

from helpers import schema_errors
from regenerate import build_spec

SPEC = build_spec()
_OPERATIONS = [
    (re.compile("^/v1" + re.sub(r"\{[^}]+\}", "[^/]+", template) + "$"), method, operation)
    for template, item in SPEC["paths"].items()
    for method, operation in item.items()
]


class SpecViolation(AssertionError):
    """A request or response the spec does not allow."""


def _operation(request: httpx.Request) -> dict[str, Any] | None:
    path = request.url.raw_path.decode("ascii").split("?", 1)[0]
    if not path.startswith("/v1/"):
        return None  # a result URL on another host: not part of the API
    for pattern, method, operation in _OPERATIONS:
        if method == request.method.lower() and pattern.match(path):
            return dict(operation)
    raise SpecViolation(f"{request.method} {path} is not an operation of the spec")


def _parameter_value(raw: str, schema: dict[str, Any]) -> Any:
    if schema.get("type") == "integer":
        try:
            return int(raw)
        except ValueError:
            return raw
    return raw


def check_request(request: httpx.Request) -> None:
    """Raise SpecViolation unless the spec allows ``request`` (path, query parameters and body)."""
    operation = _operation(request)
    if operation is None:
        return
    where = f"{request.method} {request.url.path}"
    request.read()  # a multipart body is a stream until read; reading buffers it, the bytes sent are the same
    declared = {p["name"]: p for p in operation.get("parameters", []) if p["in"] == "query"}
    query = dict(request.url.params)
    for name in query.keys() - declared.keys():
        raise SpecViolation(f"{where}: query parameter {name!r} is not in the spec")
    for name, parameter in declared.items():
        if name not in query:
            if parameter.get("required"):
                raise SpecViolation(f"{where}: required query parameter {name!r} is missing")
            continue
        errors = schema_errors(SPEC, parameter["schema"], _parameter_value(query[name], parameter["schema"]))
        if errors:
            raise SpecViolation(f"{where}: query parameter {name}={query[name]!r}: {errors}")
    body = operation.get("requestBody")
    if body is None:
        if request.content:
            raise SpecViolation(f"{where}: sends a body the spec does not declare")
        return
    content_type = request.headers.get("content-type", "").split(";")[0]
    if content_type not in body["content"]:
        raise SpecViolation(f"{where}: content type {content_type!r} is not one of {list(body['content'])}")
    schema = body["content"][content_type]["schema"]
    if content_type == "application/json":
        errors = schema_errors(SPEC, schema, json.loads(request.content))
    else:
        errors = schema_errors(SPEC, schema, _multipart_fields(request))
    if errors:
        raise SpecViolation(f"{where}: body: {errors}")


def _multipart_fields(request: httpx.Request) -> dict[str, str]:
    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode() + request.content
    )
    fields = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        if isinstance(name, str) and isinstance(payload, bytes):
            fields[name] = payload.decode("utf-8", "replace")
    return fields


def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        node = SPEC["components"]["responses"][node["$ref"].rsplit("/", 1)[-1]]
    return node


def check_response(response: httpx.Response) -> None:
    """Raise SpecViolation unless the spec documents ``response`` (status, media type and body)."""
    request = response.request
    operation = _operation(request)
    if operation is None:
        return
    where = f"{request.method} {unquote(request.url.path)} -> {response.status_code}"
    documented = operation["responses"].get(str(response.status_code))
    if documented is None:
        raise SpecViolation(f"{where}: status not documented")
    content = _resolve(documented).get("content", {})
    media_type = response.headers.get("content-type", "").split(";")[0]
    if media_type not in content:
        raise SpecViolation(f"{where}: {media_type} is not one of {list(content)}")
    if media_type == "application/json":
        errors = schema_errors(SPEC, content[media_type]["schema"], json.loads(response.read()))
        if errors:
            raise SpecViolation(f"{where}: {errors}")


def request_hook(request: httpx.Request) -> None:
    """An httpx event hook running :func:`check_request`."""
    check_request(request)


def response_hook(response: httpx.Response) -> None:
    """An httpx event hook running :func:`check_response` (JSON bodies are read; streams are left alone)."""
    check_response(response)


async def async_request_hook(request: httpx.Request) -> None:
    """The async twin of :func:`request_hook`."""
    check_request(request)


async def async_response_hook(response: httpx.Response) -> None:
    """The async twin of :func:`response_hook`."""
    if response.headers.get("content-type", "").startswith("application/json"):
        await response.aread()
    check_response(response)
