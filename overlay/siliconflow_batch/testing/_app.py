"""The emulator's HTTP behaviour: routes, the vendor's wire format and errors, and fault injection."""

from __future__ import annotations

import hashlib
import hmac
import io
import json
import random
import re
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from .._defaults import EMULATOR_CHARGE_BALANCE, EMULATOR_STAGE_SECONDS
from ..validation import (
    CHAT_COMPLETIONS,
    MAX_FILE_BYTES,
    MAX_LINES,
    MAX_METADATA_KEY,
    MAX_METADATA_PAIRS,
    MAX_METADATA_VALUE,
    MAX_WINDOW_HOURS,
    MIN_WINDOW_HOURS,
    WINDOW,
)
from ._answer import EmulatedResponse
from ._engine import DEFAULT_MODELS, LINE_FAILURES, REPLY_FAULTS, Engine, StoredBatch

if TYPE_CHECKING:
    from ._server import RunningServer

__all__ = ["FAULT_KINDS", "EmulatedResponse", "Emulator", "Faults"]

FAULT_KINDS = ("overloaded", "gateway_timeout", "rate_limit", "slow", "drop", "truncate")
# Faults only on demand (inject), never drawn at random: a 402 means something only on a create.
_ON_DEMAND = ("insufficient_balance",)
# A result URL: outside the API's base path, on another host, signed in its query (a presigned link).
_RESULT_PATH = re.compile(r"/results/([^/]+)/[^/]+")
# Modelled on community reports of the vendor's answer to a create without recharged balance (HTTP 402);
# the vendor documents no body for it.
_NO_BALANCE = {"code": 30001, "message": "Sorry, your account balance is insufficient", "data": ""}


@dataclass(frozen=True)
class _Call:
    """One request as a route sees it: the path's ``{}`` segments, the query, the headers, the body, the time."""

    params: tuple[str, ...]
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes | IO[bytes]
    now: float


def _read(body: bytes | IO[bytes]) -> bytes:
    return body if isinstance(body, bytes) else body.read()


# The API's routes, each once: (method, path under the base path with {} for a segment, what answers it).
# refuse_early and handle both read this table; a route not in it is a 404 before the key is looked at.
_ROUTES: tuple[tuple[str, tuple[str, ...], Callable[[Emulator, _Call], EmulatedResponse]], ...] = (
    ("POST", ("files",), lambda em, c: em._upload(c.headers.get("content-type", ""), c.body, c.now)),
    ("GET", ("files",), lambda em, c: em._list_files(c.query)),
    ("GET", ("files", "{}", "content"), lambda em, c: em._content(c.params[0])),
    ("POST", ("batches",), lambda em, c: em._create(_read(c.body), c.now)),
    ("GET", ("batches",), lambda em, c: em._list_batches(c.query, c.now)),
    (
        "GET",
        ("batches", "{}"),
        lambda em, c: em._with_batch(c.params[0], c.now, lambda b: _json(200, em._shown(b, c.now))),
    ),
    (
        "POST",
        ("batches", "{}", "cancel"),
        lambda em, c: em._with_batch(c.params[0], c.now, lambda b: em._cancel(b, c.now)),
    ),
    ("GET", ("user", "info"), lambda em, c: em._user_info()),
)


def _find_route(method: str, path: str) -> tuple[Callable[[Emulator, _Call], EmulatedResponse], tuple[str, ...]] | None:
    """The route answering ``method path`` (a path under the base path), with its ``{}`` segments; or None."""
    segments = tuple(path.strip("/").split("/"))
    for verb, pattern, answer in _ROUTES:
        pairs = list(zip(pattern, segments, strict=False))
        if verb == method and len(pattern) == len(segments) and all(p == s or (p == "{}" and s) for p, s in pairs):
            return answer, tuple(s for p, s in pairs if p == "{}")
    return None


def _json(status: int, body: Any) -> EmulatedResponse:
    return EmulatedResponse(status, json.dumps(body).encode(), {"Content-Type": "application/json"})


def _text(status: int, text: str) -> EmulatedResponse:
    return EmulatedResponse(status, text.encode(), {"Content-Type": "text/plain; charset=utf-8"})


def _bad_request(message: str) -> EmulatedResponse:
    return _json(400, {"code": 20012, "message": message, "data": ""})


def _envelope(data: Any) -> EmulatedResponse:
    return _json(200, {"code": 20000, "message": "Ok", "status": True, "data": data})


def _not_found() -> EmulatedResponse:
    return _text(404, "404 page not found")


def _result_netloc(api_netloc: str, result_host: str | None) -> str:
    """Where result URLs point: the same server under another name, so that they are another origin.

    127.0.0.1 and localhost swap (both reach a loopback server); any other name (the in-process transport's)
    becomes ``emulator-files``, which the transport serves too. ``result_host`` overrides the name.
    """
    parts = urlsplit(f"//{api_netloc}")
    name = (parts.hostname or "").lower()
    if result_host is None:
        swaps = {"127.0.0.1": "localhost", "localhost": "127.0.0.1", "::1": "localhost"}
        result_host = swaps.get(name, "emulator" if name == "emulator-files" else "emulator-files")
    try:
        port = parts.port
    except ValueError:
        port = None
    return f"{result_host}:{port}" if port is not None else result_host


@dataclass
class _Planned:
    kind: str
    route: str | None
    times: int


class Faults:
    """Faults to inject: queued ones (``inject``) first, then at random (``rate``, seeded), plus a broken pager.

    Kinds (:data:`FAULT_KINDS`, drawn at random too): ``overloaded`` (503, code 50505, nothing done),
    ``rate_limit`` (429 with Retry-After, nothing done), ``gateway_timeout`` (504 after the request WAS carried
    out), ``slow`` (answers after ``slow_seconds``), ``drop`` (the connection closes after the request was carried
    out, no answer), ``truncate`` (a body cut short; used on downloads). On demand only (``inject``):
    ``insufficient_balance`` (402 with the vendor's balance error, nothing done; meant for ``"POST /batches"``).
    ``ignore_after`` makes the batch list serve its first page whatever the cursor; :meth:`result_not_found`
    makes result files answer 404 at first; :meth:`expire_next` ends batches' windows midway.
    """

    def __init__(self, *, rate: float = 0.0, seed: int = 0, kinds: tuple[str, ...] = FAULT_KINDS) -> None:
        unknown = set(kinds) - set(FAULT_KINDS)
        if unknown:
            raise ValueError(f"unknown fault kinds {sorted(unknown)}; known: {', '.join(FAULT_KINDS)}")
        self.rate = rate
        self.kinds = kinds
        self.random = random.Random(seed)
        self.planned: list[_Planned] = []
        self.ignore_after = False
        self.expirations: list[float] = []  # expire_next(): the next batches created end their window midway
        self.slow_seconds = 0.5
        self.retry_after = 1
        self.not_found_times = 0  # result_not_found(): each result file's first downloads answer 404
        self.injected: Counter[str] = Counter()

    def inject(self, kind: str, *, times: int = 1, route: str | None = None) -> None:
        """Answer the next ``times`` requests (to ``route``, like ``"POST /batches"``, if given) with ``kind``.

        A route is matched by its start: ``"GET /files/"`` is any file download by id, ``"GET /results/"`` any
        download from a result URL.
        """
        if kind not in FAULT_KINDS + _ON_DEMAND:
            raise ValueError(f"unknown fault kind {kind!r}; known: {', '.join(FAULT_KINDS + _ON_DEMAND)}")
        self.planned.append(_Planned(kind, route, times))

    def result_not_found(self, *, times: int = 1) -> None:
        """Make every result file answer its first ``times`` downloads with 404 ``404 page not found``.

        As community clients report of the vendor just after a batch completes: the batch names its file, the
        file is not there yet. Counted per file, by URL and by id alike (``injected["result_not_found"]``
        counts the 404s given); ``times=0`` turns it off.
        """
        if times < 0:
            raise ValueError(f"times must be >= 0, got {times}")
        self.not_found_times = times

    def expire_next(self, *, times: int = 1, fraction: float = 0.5) -> None:
        """Make the next ``times`` batches created expire once ``fraction`` of their lines are done.

        As the vendor does: the done part is in the output file, the rest comes back as ``batch_expired`` lines
        in the error file, and the batch ends ``expired``.
        """
        if not 0 <= fraction < 1:
            raise ValueError(f"fraction must be in [0, 1), got {fraction}")
        self.expirations += [fraction] * times

    def pick(self, route: str) -> str | None:
        """The fault for this request, if any."""
        for plan in self.planned:
            if plan.route is None or route.startswith(plan.route):
                plan.times -= 1
                if plan.times <= 0:
                    self.planned.remove(plan)
                self.injected[plan.kind] += 1
                return plan.kind
        if self.rate and self.random.random() < self.rate:
            kinds = [k for k in self.kinds if k != "truncate" or _is_download(route)]
            kind = self.random.choice(kinds)
            self.injected[kind] += 1
            return kind
        return None


class Emulator:
    """A stateful, in-memory (or on-disk) emulator of the SiliconFlow Batch API, as strict as the vendor.

    Use :meth:`transport` to mount it in an httpx client (sync or async), or :meth:`serve` to run it as a real
    HTTP server on 127.0.0.1. ``clock`` returns the current time in seconds; hand it a fake to move batches
    along without sleeping (each stage takes ``stage_seconds``).

    By default it behaves as the vendor does (``vendor-facts.md``), and each leniency is an option:

    - ``serve_inputs=False``: an uploaded input file is not served back (``GET /files/{id}/content`` answers
      404 ``404 page not found``); True serves it.
    - ``result_urls=True``: a batch names its result files by full, signed URLs on another origin (for the
      server on 127.0.0.1, ``http://localhost:PORT/results/...``; for :meth:`transport`,
      ``http://emulator-files/results/...``; ``result_host`` picks another name). They are fetched without
      the key: one that carries an ``Authorization`` header is refused with 400, as presigned links are.
      False gives plain file ids, downloaded with the key from ``/files/{id}/content``.
    - ``missing_file_id=""``: a batch without an output or an error file says ``""`` for it, as the vendor
      does; None says ``null``.
    - ``require_balance_for_create=True``: with ``charge_balance`` at zero, a create answers 402 (the batch
      would be paid from recharged balance only) and creates nothing.

    A request whose body asks for JSON (``response_format`` ``json_object``, or OpenAI's ``json_schema``) is
    answered with JSON that fits its schema (the ``json_schema`` one, or the one its system prompt states, as
    ``requests.from_rows(..., schema=...)`` writes it). ``line_failures`` maps a kind to the share of lines that
    get it, drawn per batch and custom_id (a resubmission draws again): the failures ``rate_limit``,
    ``overloaded``, ``invalid``, and, in a reply that succeeds, ``broken_json`` (its text cut in half) and
    ``truncated`` (cut, with ``finish_reason: "length"``).
    """

    def __init__(
        self,
        *,
        api_key: str = "sk-emulator",
        stage_seconds: float = EMULATOR_STAGE_SECONDS,
        clock: Callable[[], float] = time.time,
        models: frozenset[str] = DEFAULT_MODELS,
        state_dir: str | Path | None = None,
        faults: Faults | None = None,
        base_path: str = "/v1",
        charge_balance: str = EMULATOR_CHARGE_BALANCE,
        line_failures: dict[str, float] | None = None,
        result_urls: bool = True,
        serve_inputs: bool = False,
        missing_file_id: str | None = "",
        require_balance_for_create: bool = True,
        result_host: str | None = None,
    ) -> None:
        self.api_key = api_key
        self.charge_balance = charge_balance  # the recharged balance GET /user/info reports (a decimal string)
        self.result_urls = result_urls  # result files given as signed URLs on another origin, not as ids
        self.serve_inputs = serve_inputs
        self.missing_file_id = missing_file_id
        self.require_balance_for_create = require_balance_for_create
        self.result_host = result_host
        self.clock = clock
        self.faults = faults if faults is not None else Faults()
        self.base_path = base_path.rstrip("/")
        known = (*LINE_FAILURES, *REPLY_FAULTS)
        unknown = set(line_failures or {}) - set(known)
        if unknown:
            raise ValueError(f"unknown line failures {sorted(unknown)}; known: {', '.join(known)}")
        self._engine = Engine(
            stage_seconds=stage_seconds,
            models=models,
            state_dir=Path(state_dir) if state_dir is not None else None,
            line_failures=dict(line_failures or {}),
        )
        self.requests: Counter[str] = Counter()
        self._origin = "http://emulator"  # scheme and host of the request being answered (for result URLs)
        self._downloads: Counter[str] = Counter()  # per result file, for Faults.result_not_found
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return (
            f"Emulator(batches={len(self._engine.batches)}, files={len(self._engine.files)}, "
            f"stage_seconds={self._engine.stage_seconds})"
        )

    # --- what a test may look at, and seed -----------------------------------------------------------------------

    def batches(self) -> list[dict[str, Any]]:
        """Every stored batch, newest first, as the list route would show it now."""
        with self._lock:
            now = self.clock()
            ordered, _ = self._engine.newest_first()
            return [self._shown(b, now, listed=True) for b in ordered]

    def files(self) -> list[dict[str, Any]]:
        """Every stored file (uploads and results), as the file list shows one."""
        with self._lock:
            return [f.listed() for f in self._engine.files.values()]

    def seed_batches(self, count: int, *, model: str = "deepseek-ai/DeepSeek-V3") -> list[str]:
        """Store ``count`` batches of one request each at once, without requests; their ids, oldest first.

        For tests (and benchmarks) of listing and paging through many batches.
        """
        line = json.dumps(
            {"custom_id": "seed", "body": {"model": model, "messages": [{"role": "user", "content": "seed"}]}}
        ).encode()
        with self._lock:
            now = self.clock()
            source = self._engine.add_file("seed.jsonl", "batch", line + b"\n", now)
            ids = []
            for index in range(count):
                batch = StoredBatch(
                    id=self._engine.new_id("batch_"),
                    input_file_id=source.id,
                    endpoint=CHAT_COMPLETIONS,
                    completion_window=f"{MIN_WINDOW_HOURS}h",
                    created_at=int(now) + index,
                    started=now,
                    metadata=None,
                    replace_model=None,
                    file_name=source.filename,
                )
                self._engine.add_batch(batch)
                ids.append(batch.id)
            self._engine.save()
            return ids

    # --- the two ways in ---------------------------------------------------------------------------------------

    def transport(self) -> httpx.MockTransport:
        """An ``httpx.MockTransport`` serving this emulator in-process, for ``httpx.Client`` or ``AsyncClient``."""
        from ._transport import make_transport

        return make_transport(self)

    def serve(self, port: int = 0, host: str = "127.0.0.1") -> RunningServer:
        """Start a real HTTP server in a background thread; returns a handle with ``url`` and ``close()``."""
        from ._server import start_server

        return start_server(self, host, port)

    # --- requests ----------------------------------------------------------------------------------------------

    def refuse_early(self, method: str, target: str, headers: dict[str, str]) -> EmulatedResponse | None:
        """The answer to a request that is refused on its head alone (no route, wrong key), before its body.

        A server calls this before reading a body, so that a wrong key costs no upload. None: read on.
        """
        path = unquote(urlsplit(target).path)
        if _RESULT_PATH.fullmatch(path):  # a result URL: signed, no key; handle() decides
            return None if method == "GET" else _not_found()
        if not path.startswith(self.base_path + "/"):
            return _not_found()
        if _find_route(method, path[len(self.base_path) :]) is None:
            return _not_found()
        if headers.get("authorization") != f"Bearer {self.api_key}":
            return _json(401, "Invalid token")
        return None

    def handle(self, method: str, target: str, headers: dict[str, str], body: bytes | IO[bytes]) -> EmulatedResponse:
        """Answer one request (``target`` is the path with its query; ``body`` bytes or a readable file)."""
        parts = urlsplit(target)
        path = unquote(parts.path)
        result = _RESULT_PATH.fullmatch(path)
        if result is None and not path.startswith(self.base_path + "/"):
            return _not_found()
        route_path = path if result is not None else path[len(self.base_path) :]
        route = f"{method} {route_path}"
        with self._lock:
            self.requests[route] += 1
            fault = self.faults.pick(route)
        if fault in ("overloaded", "rate_limit"):  # rejected before anything is done
            if fault == "overloaded":
                status, code, message = LINE_FAILURES["overloaded"]  # the vendor's overload, as its lines carry it
                return _json(status, {"code": code, "message": message, "data": ""})
            response = _json(429, {"code": 42900, "message": "Request was rejected due to rate limiting.", "data": ""})
            response.headers["Retry-After"] = str(self.faults.retry_after)
            return response
        query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
        if result is not None:
            with self._lock:
                response = self._signed_download(method, result.group(1), query, headers)
        else:
            found = _find_route(method, route_path)
            if found is None:  # the gateway answers unknown routes before it looks at the key
                return _not_found()
            if headers.get("authorization") != f"Bearer {self.api_key}":
                return _json(401, "Invalid token")
            if fault == "insufficient_balance":
                return _json(402, _NO_BALANCE)
            with self._lock:
                self._origin = f"http://{headers.get('host', 'emulator')}"
                answer, params = found
                response = answer(self, _Call(params, query, headers, body, self.clock()))
        if fault == "gateway_timeout":  # the work was done; the gateway just gave up waiting
            return _text(504, "upstream request timeout")
        if fault == "drop":
            response.drop = True
        elif fault == "truncate":
            response.truncate = True
        elif fault == "slow":
            response.delay = self.faults.slow_seconds
        return response

    # --- files ---------------------------------------------------------------------------------------------------

    def _upload(self, content_type: str, body: bytes | IO[bytes], now: float) -> EmulatedResponse:
        if not content_type.startswith("multipart/form-data"):
            return _bad_request("the upload must be multipart/form-data")
        from python_multipart import FormParser  # the emulator extra: a streaming parser, files never in memory

        fields: dict[str, bytes] = {}
        files: list[tuple[str, str, IO[bytes]]] = []
        parser = FormParser(
            "multipart/form-data",
            on_field=lambda f: fields.__setitem__((f.field_name or b"").decode(), f.value or b""),
            on_file=lambda f: files.append(
                ((f.field_name or b"").decode(), (f.file_name or b"").decode("utf-8", "replace"), f.file_object)
            ),
            boundary=_boundary(content_type),
            config={"MAX_MEMORY_FILE_SIZE": 1024**2, "UPLOAD_DIR": str(self._engine.blob_dir)},
        )
        stream = io.BytesIO(body) if isinstance(body, bytes) else body
        try:
            while chunk := stream.read(1024**2):
                parser.write(chunk)
            parser.finalize()
        except Exception as exc:  # the parser's own errors: a malformed body is the client's fault
            return _bad_request(f"the multipart body cannot be read: {type(exc).__name__}")
        try:
            if fields.get("purpose") != b"batch":
                return _bad_request("purpose must be batch")
            uploaded = [f for f in files if f[0] == "file"]
            if not uploaded:
                return _bad_request("file is required")
            _, filename, handle = uploaded[0]
            if not filename.lower().endswith(".jsonl"):
                return _bad_request("only JSONL files (.jsonl) are accepted for batch")
            handle.seek(0)
            stored = self._engine.add_file(filename, "batch", handle, now)
        finally:
            for _, _, handle in files:
                handle.close()
        self._engine.save()
        return _envelope(
            {
                "id": stored.id,
                "object": "file",
                "bytes": stored.bytes,
                "createdAt": stored.created_at,
                "filename": stored.filename,
                "purpose": stored.purpose,
            }
        )

    def _list_files(self, query: dict[str, str]) -> EmulatedResponse:
        if query.get("purpose") != "batch":
            return _bad_request("purpose is required and must be batch")
        try:
            limit = int(query.get("limit", "10"))
        except ValueError:
            return _bad_request("limit must be an integer")
        if limit < 1:
            return _bad_request("limit must be >= 1")
        files = sorted(
            (f for f in self._engine.files.values() if f.purpose == "batch"),
            key=lambda f: (f.created_at, f.id),
            reverse=True,
        )[:limit]
        items = [f.listed() for f in files]
        return _envelope({"data": items, "object": "file"})

    def _content(self, file_id: str) -> EmulatedResponse:
        stored = self._engine.files.get(file_id)
        if stored is None or (stored.purpose == "batch" and not self.serve_inputs):
            return _not_found()  # the vendor serves no input file back (community reports)
        return self._file(file_id)

    def _signed_download(
        self, method: str, file_id: str, query: dict[str, str], headers: dict[str, str]
    ) -> EmulatedResponse:
        stored = self._engine.files.get(file_id)
        if method != "GET" or stored is None or stored.purpose == "batch":
            return _not_found()
        if "authorization" in headers:  # presigned object stores refuse a second way of signing in
            return _text(400, "Only one auth mechanism allowed: the signature in the query or an Authorization header")
        if not hmac.compare_digest(query.get("Signature", ""), self._signature(file_id)):
            return _text(403, "The request signature we calculated does not match the signature you provided.")
        return self._file(file_id)

    def _file(self, file_id: str) -> EmulatedResponse:
        """A stored file's content, unless result_not_found still hides it."""
        self._downloads[file_id] += 1
        if self._engine.files[file_id].purpose != "batch" and self._downloads[file_id] <= self.faults.not_found_times:
            self.faults.injected["result_not_found"] += 1
            return _not_found()
        path = self._engine.path_of(file_id)
        assert path is not None
        return EmulatedResponse(200, headers={"Content-Type": "application/octet-stream"}, file=path)

    def _signature(self, file_id: str) -> str:
        """The result URL's signature: fixed per emulator key and file, so that URLs survive a restart."""
        return hmac.new(self.api_key.encode(), f"results/{file_id}".encode(), hashlib.sha256).hexdigest()[:32]

    def _user_info(self) -> EmulatedResponse:
        gifted = Decimal("0.88")
        charged = Decimal(self.charge_balance)
        return _envelope(
            {
                "id": "emulator-user",
                "name": "",
                "image": "",
                "email": "emulator@example.com",
                "isAdmin": False,
                "balance": f"{gifted:.2f}",
                "status": "normal",
                "introduction": "",
                "role": "",
                "chargeBalance": f"{charged:.2f}",
                "totalBalance": f"{gifted + charged:.2f}",
            }
        )

    # --- batches -------------------------------------------------------------------------------------------------

    def _create(self, body: bytes, now: float) -> EmulatedResponse:
        try:
            data = json.loads(body)
        except ValueError:
            return _bad_request("the body is not valid JSON")
        if not isinstance(data, dict):
            return _bad_request("the body must be a JSON object")
        problem = _create_problem(data)
        if problem:
            return _bad_request(problem)
        source = self._engine.files.get(data["input_file_id"])
        if source is None:
            return _bad_request(f"input_file_id {data['input_file_id']} does not exist")
        if source.line_count > MAX_LINES:
            return _bad_request(f"the input file has {source.line_count} lines; the limit is {MAX_LINES}")
        if source.bytes > MAX_FILE_BYTES:
            return _bad_request(f"the input file has {source.bytes} bytes; the limit is {MAX_FILE_BYTES}")
        if self.require_balance_for_create and Decimal(self.charge_balance) <= 0:
            return _json(402, _NO_BALANCE)  # batches are paid from recharged balance only (the guide)
        replace = data.get("replace") or {}
        stored = StoredBatch(
            id=self._engine.new_id("batch_"),
            input_file_id=source.id,
            endpoint=data["endpoint"],
            completion_window=data["completion_window"],
            created_at=int(now),
            started=now,
            metadata=data.get("metadata"),
            replace_model=replace.get("model") if isinstance(replace, dict) else None,
            file_name=source.filename,
            expire_at_fraction=self.faults.expirations.pop(0) if self.faults.expirations else None,
        )
        self._engine.add_batch(stored)
        self._engine.save()
        return _json(200, self._shown(stored, now))

    def _shown(self, stored: StoredBatch, now: float, *, listed: bool = False) -> dict[str, Any]:
        """The batch as the API shows it: result files as signed URLs (``result_urls``), none as ``missing_file_id``."""
        view = self._engine.view(stored, now, listed=listed)
        scheme, _, netloc = self._origin.partition("://")
        for key in ("output_file_id", "error_file_id"):
            file_id = view[key]
            if not file_id:
                view[key] = self.missing_file_id
            elif self.result_urls:
                name = self._engine.files[file_id].filename
                signed = f"{_result_netloc(netloc, self.result_host)}/results/{file_id}/{name}"
                view[key] = f"{scheme}://{signed}?Signature={self._signature(file_id)}"
        return view

    def _with_batch(
        self, batch_id: str, now: float, then: Callable[[StoredBatch], EmulatedResponse]
    ) -> EmulatedResponse:
        stored = self._engine.batches.get(batch_id)
        if stored is None:
            return _text(404, "404 page not found")
        return then(stored)

    def _cancel(self, stored: StoredBatch, now: float) -> EmulatedResponse:
        view = self._engine.view(stored, now)
        if view["status"] in ("completed", "failed", "expired", "cancelled"):
            return _bad_request(f"batch {stored.id} is {view['status']} and cannot be cancelled")
        if stored.cancel_requested_at is None:
            stored.cancel_requested_at = now
            self._engine.save()
        return _json(200, self._shown(stored, now))

    def _list_batches(self, query: dict[str, str], now: float) -> EmulatedResponse:
        try:
            limit = int(query.get("limit", "20"))
        except ValueError:
            return _bad_request("limit must be an integer")
        if not 1 <= limit <= 100:
            return _bad_request("limit must be between 1 and 100")
        ordered, positions = self._engine.newest_first()
        start = 0
        after = query.get("after")
        if after and not self.faults.ignore_after:
            if after not in positions:
                return _bad_request(f"after {after} is not a batch id")
            start = positions[after] + 1
        page = ordered[start : start + limit]
        data = [self._shown(b, now, listed=True) for b in page]
        return _json(
            200,
            {
                "object": "list",
                "data": data,
                "first_id": data[0]["id"] if data else None,
                "last_id": data[-1]["id"] if data else None,
                "has_more": start + limit < len(ordered),
            },
        )


def _create_problem(data: dict[str, Any]) -> str | None:
    for name in ("input_file_id", "endpoint", "completion_window"):
        if not isinstance(data.get(name), str) or not data[name]:
            return f"{name} is required"
    if data["endpoint"] != CHAT_COMPLETIONS:
        return f"endpoint must be {CHAT_COMPLETIONS}"
    match = WINDOW.fullmatch(data["completion_window"])
    if match is None or not MIN_WINDOW_HOURS <= int(match.group(1)) <= MAX_WINDOW_HOURS:
        return f"completion_window must be between {MIN_WINDOW_HOURS}h and {MAX_WINDOW_HOURS}h"
    replace = data.get("replace")
    if replace is not None and (not isinstance(replace, dict) or not isinstance(replace.get("model", ""), str)):
        return 'replace must be an object like {"model": "..."}'
    metadata = data.get("metadata")
    if metadata is not None:
        if not isinstance(metadata, dict) or len(metadata) > MAX_METADATA_PAIRS:
            return f"metadata must be an object of at most {MAX_METADATA_PAIRS} pairs"
        for key, value in metadata.items():
            if len(key) > MAX_METADATA_KEY or not isinstance(value, str) or len(value) > MAX_METADATA_VALUE:
                return (
                    f"metadata keys are at most {MAX_METADATA_KEY} characters "
                    f"and values strings of at most {MAX_METADATA_VALUE}"
                )
    return None


def _is_download(route: str) -> bool:
    return route.endswith("/content") or route.startswith("GET /results/")


def _boundary(content_type: str) -> str | None:
    match = re.search(r'boundary="?([^";]+)"?', content_type)
    return match.group(1) if match else None
