"""The emulator's state: files and batches, and how a batch advances with the clock.

A batch's status is derived from the time since it was created (``stage_seconds`` per stage), so a test that
owns the clock moves batches forward without sleeping. Results are deterministic: the same input gives the
same output file.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import re
import shutil
import tempfile
import weakref
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any

from .._defaults import EMULATOR_STAGE_SECONDS
from .._exceptions import OVERLOADED_CODE

__all__ = ["DEFAULT_MODELS", "Engine", "StoredBatch", "StoredFile"]

# The batch models of the vendor's guide (vendor-facts.md).
DEFAULT_MODELS = frozenset(
    {
        "deepseek-ai/DeepSeek-V3",
        "deepseek-ai/DeepSeek-R1",
        "Qwen/QwQ-32B",
        "deepseek-ai/DeepSeek-V3.1-Terminus",
        "moonshotai/Kimi-K2-Instruct-0905",
    }
)
IN_PROGRESS_STAGES = 3  # in_progress lasts three stages, counts rising as it goes
# Per-line failures a test may ask for: (HTTP status, code, message) as the vendor's result lines carry them.
LINE_FAILURES: dict[str, tuple[int, str | int, str]] = {
    "rate_limit": (429, "rate_limit_exceeded", "Request was rejected due to rate limiting."),
    "overloaded": (503, OVERLOADED_CODE, "Model service overloaded. Please try again later."),
    "invalid": (400, "invalid_request", "The request is invalid for this model."),
}
# Per-line faults in a reply that succeeds (HTTP 200), asked for like LINE_FAILURES (``line_failures``):
# ``broken_json`` cuts the reply's text in half (no longer JSON), ``truncated`` also ends it with
# ``finish_reason: "length"``, as a reply stopped at max_tokens.
REPLY_FAULTS = ("broken_json", "truncated")
MAX_TOKENS = 16384  # a request asking for more fails, like an unknown model: it lands in the error file


_STAMPS = (
    "in_progress_at",
    "finalizing_at",
    "completed_at",
    "failed_at",
    "expired_at",
    "cancelling_at",
    "cancelled_at",
)


@dataclass(frozen=True)
class Moment:
    """Where a batch is at one time: its status, its timestamps, how many of its lines are processed."""

    status: str
    stamps: dict[str, int | None]
    processed: int
    expires_at: int


@dataclass
class StoredFile:
    """An uploaded or produced file."""

    id: str
    filename: str
    purpose: str
    created_at: int
    bytes: int
    line_count: int

    def listed(self) -> dict[str, Any]:
        """The file as the file list shows it."""
        return {
            "id": self.id,
            "object": "file",
            "bytes": self.bytes,
            "created_at": self.created_at,
            "filename": self.filename,
            "purpose": self.purpose,
            "line_count": self.line_count,
        }


@dataclass
class StoredBatch:
    """A batch as created; everything else about it is derived from the clock."""

    id: str
    input_file_id: str
    endpoint: str
    completion_window: str
    created_at: int
    metadata: dict[str, str] | None
    replace_model: str | None
    file_name: str
    cancel_requested_at: float | None = None
    started: float | None = None  # the exact creation time; created_at is whole seconds
    output_file_id: str | None = None
    error_file_id: str | None = None
    final_status: str | None = None
    expire_at_fraction: float | None = None  # a fault: the window ends when this share of the lines is done


@dataclass
class _Line:
    custom_id: str
    model: str
    prompt: str  # the start of the last message's content (all a reply shows), cached for every line: kept short
    valid: bool = True
    max_tokens: int = 0
    json_mode: bool = False  # the body asks for JSON (response_format json_object or json_schema)
    schema: dict[str, Any] | None = None  # the schema the reply must fit: OpenAI's json_schema, or the prompt's
    prompt_chars: int = 0  # the whole content's length, which its usage counts


@dataclass
class Engine:
    """Files, batches and their progress. Not thread-safe on its own: the app serialises calls.

    File contents live on disk (in ``state_dir``, or a temporary folder removed with the engine), never in
    memory: an upload of hundreds of megabytes costs the emulator a few buffers.
    """

    stage_seconds: float = EMULATOR_STAGE_SECONDS
    models: frozenset[str] = DEFAULT_MODELS
    # Share of lines that fail, by kind (LINE_FAILURES), drawn per (batch, custom_id): a resubmission redraws.
    line_failures: dict[str, float] = field(default_factory=dict)
    state_dir: Path | None = None
    files: dict[str, StoredFile] = field(default_factory=dict)
    batches: dict[str, StoredBatch] = field(default_factory=dict)
    counter: int = 0
    # Caches: input files never change, and the list order only changes when a batch is added.
    _parsed: dict[str, list[_Line]] = field(default_factory=dict, repr=False)
    _order: list[StoredBatch] | None = field(default=None, repr=False)
    _positions: dict[str, int] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if self.state_dir is not None:
            self.state_dir.mkdir(parents=True, exist_ok=True)
            self.blob_dir = self.state_dir
            self._load()
        else:
            self.blob_dir = Path(tempfile.mkdtemp(prefix="siliconflow-emulator-"))
            weakref.finalize(self, shutil.rmtree, self.blob_dir, ignore_errors=True)

    def path_of(self, file_id: str) -> Path | None:
        """Where a stored file's bytes are, or None for an unknown id."""
        return self.blob_dir / f"{file_id}.bin" if file_id in self.files else None

    def read(self, file_id: str) -> bytes:
        """A stored file's bytes (for small files and the in-process transport)."""
        path = self.path_of(file_id)
        return path.read_bytes() if path is not None else b""

    # --- ids and persistence -------------------------------------------------------------------------------

    def new_id(self, prefix: str) -> str:
        """A fresh id, deterministic in creation order."""
        self.counter += 1
        digest = hashlib.sha256(f"{prefix}{self.counter}".encode()).hexdigest()[:10]
        return f"{prefix}{digest}"

    def save(self) -> None:
        """Write the state to ``state_dir`` (when there is one), file contents included."""
        if self.state_dir is None:
            return
        state = {
            "counter": self.counter,
            "files": [asdict(f) for f in self.files.values()],
            "batches": [asdict(b) for b in self.batches.values()],
        }
        temp = self.state_dir / "state.json.part"
        temp.write_text(json.dumps(state, indent=1))
        temp.replace(self.state_dir / "state.json")

    def _load(self) -> None:
        assert self.state_dir is not None
        path = self.state_dir / "state.json"
        if not path.exists():
            return
        state = json.loads(path.read_text())
        self.counter = state["counter"]
        for item in state["files"]:
            stored = StoredFile(**item)
            self.files[stored.id] = stored
        for item in state["batches"]:
            self.batches[item["id"]] = StoredBatch(**item)

    # --- files ----------------------------------------------------------------------------------------------

    def add_file(self, filename: str, purpose: str, content: bytes | IO[bytes], now: float) -> StoredFile:
        """Store a file, from bytes or copied from an open binary file in bounded pieces."""
        file_id = self.new_id("file-")
        path = self.blob_dir / f"{file_id}.bin"
        with path.open("wb") as out:
            if isinstance(content, bytes):
                out.write(content)
            else:
                shutil.copyfileobj(content, out, 1024**2)
        size, lines = os.path.getsize(path), 0
        with path.open("rb") as handle:
            lines = sum(1 for line in handle if line.strip())
        stored = StoredFile(file_id, filename, purpose, int(now), size, lines)
        self.files[stored.id] = stored
        return stored

    # --- batches --------------------------------------------------------------------------------------------

    def window_seconds(self, batch: StoredBatch) -> float:
        """The completion window in seconds."""
        return int(batch.completion_window.removesuffix("h")) * 3600.0

    def view(self, batch: StoredBatch, now: float, *, listed: bool = False) -> dict[str, Any]:
        """The Batch object the API returns for ``batch`` at time ``now``; produces result files once done.

        Three steps: where the batch is in its life (``moment``, pure), its result files once it has ended
        (``_finish``, once), and the object the API shows (``_render``). ``file_name`` is in list views only,
        as the vendor's (and our spec's) list page has it.
        """
        lines = self._lines(batch)
        moment = self.moment(batch, now, len(lines))
        if moment.status in ("completed", "expired", "cancelled"):
            self._finish(batch, moment.status, lines[: moment.processed], lines[moment.processed :], now)
        failed = sum(1 for line in lines[: moment.processed] if not self._served(line, batch))
        return self._render(batch, moment, len(lines), failed, listed)

    def moment(self, batch: StoredBatch, now: float, total: int) -> Moment:
        """Where ``batch`` (of ``total`` lines) is at ``now``: its status, timestamps and lines processed."""
        s = self.stage_seconds
        start = batch.started if batch.started is not None else float(batch.created_at)
        stamps: dict[str, int | None] = dict.fromkeys(_STAMPS)
        expires_at = start + self.window_seconds(batch)
        progress_start = start + 2 * s
        progress_end = progress_start + IN_PROGRESS_STAGES * s
        if batch.expire_at_fraction is not None:
            expires_at = progress_start + batch.expire_at_fraction * IN_PROGRESS_STAGES * s
        done_at = progress_end + s
        cancel_at = batch.cancel_requested_at
        status: str
        # The clock stops at the first of: cancellation, expiry, completion.
        effective = min(now, cancel_at if cancel_at is not None else math.inf, expires_at)
        processed = (
            total
            if effective >= progress_end
            else max(0, int(total * (effective - progress_start) / max(IN_PROGRESS_STAGES * s, 1e-9)))
        )
        if cancel_at is not None and cancel_at < min(done_at, expires_at):
            stamps["cancelling_at"] = int(cancel_at)
            if now >= cancel_at + s:
                status = "cancelled"
                stamps["cancelled_at"] = int(cancel_at + s)
            else:
                status = "cancelling"
        elif now >= expires_at and expires_at < done_at:
            status = "expired"
            stamps["expired_at"] = int(expires_at)
        elif now < start + s:
            status = "in_queue"
        elif now < progress_start:
            status = "validating"
        elif now < progress_end:
            status = "in_progress"
        elif now < done_at:
            status = "finalizing"
        else:
            status = "completed"
            stamps["completed_at"] = int(done_at)
        if status != "in_queue" and status != "validating" and effective >= progress_start:
            stamps["in_progress_at"] = int(progress_start)
        if status in ("finalizing", "completed"):
            stamps["finalizing_at"] = int(progress_end)
        return Moment(status, stamps, processed, int(expires_at))

    def _render(self, batch: StoredBatch, moment: Moment, total: int, failed: int, listed: bool) -> dict[str, Any]:
        """The Batch object as the API shows it at ``moment``."""
        processed, status = moment.processed, moment.status
        counts = (
            None
            if status in ("in_queue", "validating")
            else {
                "total": total,
                "completed": processed - failed,
                "failed": failed + (total - processed if status == "expired" else 0),
            }
        )
        return {
            "id": batch.id,
            "object": "batch",
            "endpoint": batch.endpoint,
            "errors": None,
            "input_file_id": batch.input_file_id,
            "completion_window": batch.completion_window,
            "status": status,
            "output_file_id": batch.output_file_id,
            "error_file_id": batch.error_file_id,
            "created_at": batch.created_at,
            "expires_at": moment.expires_at,
            **moment.stamps,
            "request_counts": counts,
            "metadata": batch.metadata,
            **({"file_name": batch.file_name} if listed else {}),
        }

    def add_batch(self, batch: StoredBatch) -> None:
        """Store a new batch."""
        self.batches[batch.id] = batch
        self._order = None

    def newest_first(self) -> tuple[list[StoredBatch], dict[str, int]]:
        """The batches, newest first, and each one's position in that order."""
        if self._order is None:
            self._order = sorted(self.batches.values(), key=lambda b: (b.created_at, b.id), reverse=True)
            self._positions = {b.id: i for i, b in enumerate(self._order)}
        return self._order, self._positions

    def _lines(self, batch: StoredBatch) -> list[_Line]:
        cached = self._parsed.get(batch.input_file_id)
        if cached is None:
            cached = self._parsed[batch.input_file_id] = self._parse(batch)
        return cached

    def _parse(self, batch: StoredBatch) -> list[_Line]:
        lines: list[_Line] = []
        path = self.path_of(batch.input_file_id)
        if path is None:
            return lines
        with path.open("rb") as handle:
            for raw in handle:
                if raw.strip():
                    lines.append(_parse_line(raw, len(lines) + 1))
        return lines

    def _served(self, line: _Line, batch: StoredBatch) -> bool:
        return self._failure(line, batch) is None

    def _failure(self, line: _Line, batch: StoredBatch) -> tuple[int, str | int, str] | None:
        """Why the emulated model service would reject this request, as (status, code, message), or None."""
        model = batch.replace_model or line.model
        if not line.valid:
            return 400, "invalid_request", "The request line could not be parsed"
        if model not in self.models:
            return 400, "model_not_found", f"Model does not exist: {model!r}"
        if line.max_tokens > MAX_TOKENS:
            return 400, "invalid_request", f"max_tokens must be at most {MAX_TOKENS}, got {line.max_tokens}"
        if any(self.line_failures.get(kind) for kind in LINE_FAILURES):
            draw = int(hashlib.sha256(f"fail/{batch.id}/{line.custom_id}".encode()).hexdigest()[:8], 16) / 16**8
            for kind in LINE_FAILURES:
                share = self.line_failures.get(kind, 0.0)
                if draw < share:
                    return LINE_FAILURES[kind]
                draw -= share
        return None

    def _reply_fault(self, line: _Line, batch: StoredBatch) -> str | None:
        """The REPLY_FAULTS kind this served line's reply gets (drawn per batch and custom_id), or None."""
        if not any(self.line_failures.get(kind) for kind in REPLY_FAULTS):
            return None
        draw = int(hashlib.sha256(f"reply/{batch.id}/{line.custom_id}".encode()).hexdigest()[:8], 16) / 16**8
        for kind in REPLY_FAULTS:
            share = self.line_failures.get(kind, 0.0)
            if draw < share:
                return kind
            draw -= share
        return None

    def _finish(self, batch: StoredBatch, status: str, processed: list[_Line], rest: list[_Line], now: float) -> None:
        if batch.final_status is not None:
            return
        output: list[dict[str, Any]] = []
        errors: list[dict[str, Any]] = []
        for line in processed:
            (output if self._served(line, batch) else errors).append(self._result(line, batch))
        if status == "expired":
            errors += [_expired(line) for line in rest]
        if output:
            stored = self.add_file(f"{batch.id}_output.jsonl", "batch_output", _jsonl(output), now)
            batch.output_file_id = stored.id
        if errors:
            stored = self.add_file(f"{batch.id}_error.jsonl", "batch_output", _jsonl(errors), now)
            batch.error_file_id = stored.id
        batch.final_status = status
        self.save()

    def _result(self, line: _Line, batch: StoredBatch) -> dict[str, Any]:
        digest = hashlib.sha256(f"{batch.id}/{line.custom_id}".encode()).hexdigest()
        model = batch.replace_model or line.model
        failure = self._failure(line, batch)
        if failure is not None:
            status, code, message = failure
            kind = "invalid_request_error" if status == 400 else "server_error" if status >= 500 else "rate_limit_error"
            return {
                "id": f"batch_req_{digest[:16]}",
                "custom_id": line.custom_id,
                "response": {
                    "status_code": status,
                    "request_id": digest[16:32],
                    "body": {"error": {"message": message, "type": kind, "code": code}},
                },
                "error": None,
            }
        reply = f"[emulated {model}] {line.prompt[:_PROMPT_SHOWN]}"
        if line.json_mode:
            value = fitting(line.schema, int(digest[:8], 16)) if line.schema is not None else {"answer": reply}
            reply = json.dumps(value, ensure_ascii=False)
        finish = "stop"
        fault = self._reply_fault(line, batch)
        if fault is not None:
            reply = reply[: max(1, len(reply) // 2)]
            finish = "length" if fault == "truncated" else "stop"
        prompt_tokens = max(1, line.prompt_chars // 4)
        return {
            "id": f"batch_req_{digest[:16]}",
            "custom_id": line.custom_id,
            "response": {
                "status_code": 200,
                "request_id": digest[16:32],
                "body": {
                    "id": f"chatcmpl-{digest[32:48]}",
                    "object": "chat.completion",
                    "created": batch.created_at,
                    "model": model,
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": reply}, "finish_reason": finish}
                    ],
                    "usage": {
                        "prompt_tokens": prompt_tokens,
                        "completion_tokens": 8,
                        "total_tokens": prompt_tokens + 8,
                    },
                },
            },
            "error": None,
        }


_PROMPT_SHOWN = 200  # a reply echoes this much of its prompt


def _parse_line(raw: bytes, number: int) -> _Line:
    """One input line as the model service sees it; a line it cannot read keeps its own custom_id if it has one."""
    data: Any = None
    try:
        data = json.loads(raw)
        body = data["body"]
        prompt = str(body["messages"][-1].get("content", ""))
        max_tokens = body.get("max_tokens", 0)
        json_mode, schema = _asked_schema(body)
        return _Line(
            str(data["custom_id"]),
            str(body.get("model", "")),
            prompt[:_PROMPT_SHOWN],
            True,
            max_tokens if isinstance(max_tokens, int) else 0,
            json_mode,
            schema,
            len(prompt),
        )
    except (ValueError, KeyError, TypeError, IndexError, AttributeError, RecursionError):
        custom_id = data.get("custom_id") if isinstance(data, dict) else None
        return _Line(str(custom_id) if custom_id else f"line-{number}", "", "", valid=False)


_PROMPT_SCHEMA = re.compile(r"JSON Schema:\s*```json\s*(\{.*?\})\s*```", re.DOTALL)


def _asked_schema(body: dict[str, Any]) -> tuple[bool, dict[str, Any] | None]:
    """Whether the body asks for JSON, and the schema it names (None: none found).

    OpenAI's ``json_schema`` form, else the one a message states in a fenced block after "JSON Schema:" (as
    ``siliconflow_batch.structured`` writes it).
    """
    wanted = body.get("response_format")
    if not isinstance(wanted, dict) or wanted.get("type") not in ("json_object", "json_schema"):
        return False, None
    given = wanted.get("json_schema")
    if isinstance(given, dict) and isinstance(given.get("schema"), dict):
        return True, given["schema"]
    for message in body.get("messages") or ():
        content = message.get("content") if isinstance(message, dict) else None
        found = _PROMPT_SCHEMA.search(content) if isinstance(content, str) else None
        if found is not None:
            try:
                schema = json.loads(found.group(1))
            except ValueError:
                continue
            if isinstance(schema, dict):
                return True, schema
    return True, None


def fitting(schema: Any, seed: int, root: Any = None, depth: int = 0) -> Any:
    """A value that fits ``schema`` (the common subset of JSON Schema), varied by ``seed``: the emulated model."""
    root = schema if root is None else root
    if not isinstance(schema, dict) or depth > 8:
        return None
    ref = schema.get("$ref")
    if isinstance(ref, str) and ref.startswith("#/"):
        target: Any = root
        for part in ref[2:].split("/"):
            target = target.get(part) if isinstance(target, dict) else None
        return fitting(target, seed, root, depth + 1)
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][seed % len(schema["enum"])]
    for key in ("anyOf", "oneOf", "allOf"):
        options = [o for o in schema.get(key) or () if isinstance(o, dict) and o.get("type") != "null"]
        if options:
            return fitting(options[0], seed, root, depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        properties = schema.get("properties") or {}
        return {name: fitting(sub, seed + i, root, depth + 1) for i, (name, sub) in enumerate(properties.items())}
    if kind == "array":
        count = max(1, schema.get("minItems", 1) if isinstance(schema.get("minItems"), int) else 1)
        return [fitting(schema.get("items") or {"type": "string"}, seed + i, root, depth + 1) for i in range(count)]
    if kind == "integer":
        low = schema.get("minimum", 0)
        high = schema.get("maximum", low + 100)
        return int(low) + seed % (int(high) - int(low) + 1)
    if kind == "number":
        low, high = float(schema.get("minimum", 0)), float(schema.get("maximum", 1))
        return low + (high - low) * (seed % 1000) / 1000
    if kind == "boolean":
        return seed % 2 == 0
    if kind == "null":
        return None
    text = f"emulated {seed % 10_000}"
    low = schema.get("minLength", 0)
    return text + "x" * max(0, int(low) - len(text)) if isinstance(low, int) else text


def _expired(line: _Line) -> dict[str, Any]:
    return {
        "id": None,
        "custom_id": line.custom_id,
        "response": None,
        "error": {
            "code": "batch_expired",
            "message": "This request could not be executed before the completion window expired.",
        },
    }


def _jsonl(lines: list[dict[str, Any]]) -> bytes:
    return b"".join(json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines)
