"""Options per call, as in the openai SDK: ``timeout=``, ``extra_headers=``, ``extra_query=``, ``extra_body=``."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any, TypedDict, cast

import httpx

from ._exceptions import InputValidationError
from ._http import RequestSpec

__all__ = ["PollOptions", "RequestOptions", "apply_options"]


class PollOptions(TypedDict, total=False):
    """The per-call options of the waits, whose own ``timeout=`` is the deadline of the whole wait.

    ``extra_headers`` and ``extra_query`` are added to every request of the call; ``extra_body`` is deep-merged
    into a JSON body (say, a field the vendor added before this client knows it). The API key is not a header
    you can set here: give it as ``api_key=`` to the client. For another request timeout while waiting, use
    ``client.with_options(timeout=...)``.
    """

    extra_headers: Mapping[str, str] | None
    extra_query: Mapping[str, Any] | None
    extra_body: Mapping[str, Any] | None


class RequestOptions(PollOptions, total=False):
    """What every resource method accepts besides its own parameters: :class:`PollOptions` and ``timeout``.

    ``timeout`` (seconds, or an ``httpx.Timeout``) replaces the client's for the requests of this call.
    """

    timeout: float | httpx.Timeout | None


_NAMES = frozenset(RequestOptions.__annotations__)


def apply_options(spec: RequestSpec, options: RequestOptions | PollOptions) -> RequestSpec:
    """``spec`` with ``options`` merged in; refuses what cannot be merged before anything is sent."""
    if not options:
        return spec
    unknown = set(options) - _NAMES
    if unknown:
        raise TypeError(f"unexpected options {sorted(unknown)}; the options are {sorted(_NAMES)}")
    changes: dict[str, Any] = {}
    headers = options.get("extra_headers")
    if headers:
        if any(name.lower() == "authorization" for name in headers):
            raise _refused("extra_headers", "may not set Authorization: give the key as api_key= to the client")
        changes["headers"] = {**spec.headers, **headers}
    query = options.get("extra_query")
    if query:
        changes["params"] = {**(spec.params or {}), **query}
    body = options.get("extra_body")
    if body:
        if spec.files is not None or spec.method == "GET":
            raise _refused("extra_body", f"{spec.method} {spec.url} has no JSON body to merge it into")
        changes["json"] = _deep_merge(spec.json if isinstance(spec.json, dict) else {}, body)
    timeout = cast(RequestOptions, options).get("timeout")  # PollOptions have none: then it is absent
    if timeout is not None:
        changes["timeout"] = timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout)
    return dataclasses.replace(spec, **changes) if changes else spec


def _deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        old = merged.get(key)
        merged[key] = _deep_merge(old, value) if isinstance(old, Mapping) and isinstance(value, Mapping) else value
    return merged


def _refused(name: str, message: str) -> InputValidationError:
    from ._problem import Problem  # attrs loads with the first problem, not with every client

    return InputValidationError("nothing was sent", [Problem(name, message)])
