"""Each endpoint of the API declared once, as an :class:`Operation`: one module per resource.

An operation is its request (``build``, over the generated package's ``request_kwargs``), whether a retry may send it
again (``idempotent``) and how a 2xx answer is read (``parse``), side by side. A resource method calls it with its
arguments and sends the :class:`Call` it gets: ``await self._sender.call(ops.get_batch(batch_id), options)`` returns
the parsed value (inside ``with_raw_response``, the :class:`~siliconflow_batch.APIResponse`; see ``_response``).

Only the shape of a request (method, path, query, body) comes from the generated code; sending, retrying and parsing
are ours. Each ``build`` imports its generated operation's ``request_kwargs`` by name, inside the function: the
generated operations and models load with the first request, not with the client (nor with ``client.batches``), and
an operation or parameter that a regeneration renames or drops fails ``mypy --strict`` here, before any test runs.
Path ids are checked before they reach a URL (:func:`path_id`): an empty id would turn ``GET /batches/{id}`` into the
list route.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Generic, ParamSpec, TypeVar

import httpx

from .._exceptions import InputValidationError
from .._http import RequestSpec

__all__ = ["Call", "Kwargs", "Operation", "operation", "page_limit", "path_id"]

P = ParamSpec("P")
T = TypeVar("T")

Kwargs = dict[str, Any]
"""What ``build`` returns: a generated ``request_kwargs`` (``method``, ``url``, ``params``, ``json``, ``files``)."""

_NO_HEADERS: Mapping[str, str] = MappingProxyType({})


class Call(Generic[T]):
    """One operation's request, ready to send (``spec``), and how its answer is read (``parse``)."""

    __slots__ = ("parse", "spec")

    def __init__(self, spec: RequestSpec, parse: Callable[[httpx.Response], T]) -> None:
        self.spec = spec
        self.parse = parse


class Operation(Generic[P, T]):
    """One endpoint: ``build`` makes its request from the arguments, ``parse`` reads its 2xx answer as a ``T``.

    ``idempotent``: whether a retry may send it again after a failure that leaves it unknown whether it was done
    (a create may not: it could make a second batch). ``headers``: what its requests carry besides the client's.
    Calling the operation builds its :class:`Call` (a bad argument raises there, before anything is sent).
    """

    __slots__ = ("build", "headers", "idempotent", "name", "parse")

    def __init__(
        self,
        build: Callable[P, Kwargs],
        parse: Callable[[httpx.Response], T],
        *,
        idempotent: bool,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        self.build = build
        self.parse = parse
        self.idempotent = idempotent
        self.headers = _NO_HEADERS if headers is None else MappingProxyType(dict(headers))
        self.name = build.__name__

    def __call__(self, *args: P.args, **kwargs: P.kwargs) -> Call[T]:
        built = self.build(*args, **kwargs)
        # A multipart body is made again for every attempt (its file rewound by build), so that a retried upload
        # sends the whole file. The generated headers are not copied: for uploads they pin the multipart boundary to
        # "+++", which a file containing "\r\n--+++" would break; httpx picks a random boundary and sets the header.
        files = None if "files" not in built else lambda: self.build(*args, **kwargs)["files"]
        spec = RequestSpec(
            method=built["method"].upper(),
            url=built["url"],
            params=built.get("params") or None,
            json=built.get("json"),
            files=files,
            idempotent=self.idempotent,
            headers=self.headers,
        )
        return Call(spec, self.parse)

    def __repr__(self) -> str:
        return f"<Operation {self.name}{'' if self.idempotent else ' (not idempotent)'}>"


def operation(
    *, parse: Callable[[httpx.Response], T], idempotent: bool, headers: Mapping[str, str] | None = None
) -> Callable[[Callable[P, Kwargs]], Operation[P, T]]:
    """Declare an endpoint: the decorated function is its ``build``, given with its ``parse`` and ``idempotent``."""

    def declare(build: Callable[P, Kwargs]) -> Operation[P, T]:
        return Operation(build, parse, idempotent=idempotent, headers=headers)

    return declare


def path_id(name: str, value: str) -> str:
    """``value``, an id that goes into a URL's path; raises :class:`InputValidationError` unless a non-empty string."""
    if not isinstance(value, str) or not value.strip():
        from .._problem import Problem  # attrs loads with the first problem, not with every client

        raise InputValidationError(f"invalid {name}", [Problem(name, f"must be a non-empty string, got {value!r}")])
    return value


def page_limit(limit: int | None) -> int | None:
    """``limit`` for a list's ``limit=``, None meaning the server's default; raises if it is no count of items."""
    from ..validation import MIN_PAGE_LIMIT

    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < MIN_PAGE_LIMIT):
        from .._problem import Problem

        problem = Problem("limit", f"must be at least {MIN_PAGE_LIMIT}, got {limit!r}")
        raise InputValidationError("invalid limit", [problem])
    return limit
