"""Structured outputs: a JSON Schema (or a pydantic model) that every reply of a job must fit.

SiliconFlow documents one structured mode for chat completions, JSON mode: ``response_format={"type":
"json_object"}`` (its "JSON 模式" guide); it documents no ``json_schema`` form. So a request made for a schema
carries ``{"type": "json_object"}`` and states the schema in its system prompt (:attr:`Schema.instruction`;
``requests.from_rows(..., schema=...)`` does both), and each reply is parsed and validated here, on the client:
:meth:`Schema.check` gives the value (a dict, or the pydantic instance) or one line saying why there is none.

JSON inside a Markdown code fence is accepted; a reply with no content but reasoning (a reasoning model that
ran out of tokens while thinking) and a reply cut at ``max_tokens`` (``finish_reason: "length"``) are errors.
The validator is this module's own (no dependency), for the common subset of JSON Schema: ``type`` (one or a
list), ``properties``, ``required``, ``additionalProperties`` (false or a schema), ``items``, ``enum``,
``const``, ``anyOf``/``oneOf``/``allOf``, ``$ref`` to ``#/$defs/...`` or ``#/definitions/...`` (as pydantic
writes nested models), ``minLength``/``maxLength``, ``minimum``/``maximum``, ``minItems``/``maxItems``; other
keywords are ignored. A pydantic model is validated by pydantic itself, and gives its instance.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import re
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from ._exceptions import InputValidationError
from ._problem import Problem

if TYPE_CHECKING:
    from ._records import BatchResult

__all__ = ["JSON_MODE", "Schema", "extract_json", "validate"]

JSON_MODE: dict[str, str] = {"type": "json_object"}
"""The ``response_format`` SiliconFlow documents for JSON output (its JSON mode)."""

_TYPES = ("object", "array", "string", "integer", "number", "boolean", "null")
_FENCE = re.compile(r"```[A-Za-z0-9_-]*[ \t]*\r?\n(.*?)\r?\n?[ \t]*```", re.DOTALL)
MAX_PARSE_ERROR = 300


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= MAX_PARSE_ERROR else line[: MAX_PARSE_ERROR - 1].rstrip() + "…"


def extract_json(text: str) -> str:
    """The JSON text in a reply: the first Markdown code fence's contents when there is one, else the text."""
    stripped = text.strip()
    if stripped.startswith(("{", "[")):
        return stripped
    fenced = _FENCE.search(text)
    return fenced.group(1).strip() if fenced is not None else stripped


# JSON Schema's name of each JSON value's Python type, bool before int (a bool is an int in Python).
_KINDS: tuple[tuple[type, str], ...] = (
    (type(None), "null"),
    (bool, "boolean"),
    (int, "integer"),
    (float, "number"),
    (str, "string"),
    (list, "array"),
    (dict, "object"),
)


def _kind(value: object) -> str:
    return next((name for kind, name in _KINDS if isinstance(value, kind)), type(value).__name__)


def _fits_type(value: object, wanted: str) -> bool:
    kind = _kind(value)
    if wanted == "number":
        return kind in ("integer", "number")
    if wanted == "integer":
        return kind == "integer" or (kind == "number" and float(value).is_integer())  # type: ignore[arg-type]
    return kind == wanted


def _where(path: str) -> str:
    return path or "the value"


class _Validator:
    def __init__(self, root: Mapping[str, Any]) -> None:
        self.root = root

    def resolve(self, schema: Mapping[str, Any]) -> Mapping[str, Any]:
        seen = 0
        while isinstance(schema.get("$ref"), str) and seen < 32:
            ref: str = schema["$ref"]
            target: Any = self.root
            if not ref.startswith("#"):
                return {}  # a remote reference: not followed (accepts anything)
            for part in [p for p in ref[1:].split("/") if p]:
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part) if isinstance(target, Mapping) else None
            if not isinstance(target, Mapping):
                return {}
            schema, seen = target, seen + 1
        return schema

    def error(self, value: Any, schema: Any, path: str) -> str | None:
        if schema is True or schema is None:
            return None
        if schema is False:
            return f"{_where(path)} is not allowed"
        if not isinstance(schema, Mapping):
            return None
        schema = self.resolve(schema)
        wanted = schema.get("type")
        if wanted is not None:
            options = [wanted] if isinstance(wanted, str) else list(wanted)
            if not any(_fits_type(value, t) for t in options):
                return f"{_where(path)} must be {' or '.join(map(str, options))}, not {_kind(value)}"
        if "const" in schema and value != schema["const"]:
            return f"{_where(path)} must be {json.dumps(schema['const'])}"
        enum = schema.get("enum")
        same = isinstance(enum, list) and any(value == e and _kind(value) == _kind(e) for e in enum)
        if isinstance(enum, list) and not same and not (_kind(value) in ("integer", "number") and value in enum):
            shown = ", ".join(json.dumps(e, ensure_ascii=False) for e in enum[:10])
            return f"{_where(path)} must be one of {shown}, not {json.dumps(value, ensure_ascii=False)[:60]}"
        for key in ("anyOf", "oneOf"):
            options = schema.get(key)
            if isinstance(options, list) and options:
                errors = [self.error(value, option, path) for option in options]
                if all(e is not None for e in errors):
                    return (
                        errors[0]
                        if len(errors) == 1
                        else f"{_where(path)} fits none of its {len(errors)} forms ({errors[0]})"
                    )
        for option in schema.get("allOf") or ():
            found = self.error(value, option, path)
            if found is not None:
                return found
        if isinstance(value, dict):
            return self._object(value, schema, path)
        if isinstance(value, list):
            return self._array(value, schema, path)
        if isinstance(value, str):
            if isinstance(schema.get("minLength"), int) and len(value) < schema["minLength"]:
                return f"{_where(path)} must have at least {schema['minLength']} characters"
            if isinstance(schema.get("maxLength"), int) and len(value) > schema["maxLength"]:
                return f"{_where(path)} must have at most {schema['maxLength']} characters"
        if _kind(value) in ("integer", "number"):
            low, high = schema.get("minimum"), schema.get("maximum")
            if isinstance(low, int | float) and value < low:
                return f"{_where(path)} must be >= {low}, not {value}"
            if isinstance(high, int | float) and value > high:
                return f"{_where(path)} must be <= {high}, not {value}"
        return None

    def _object(self, value: dict[str, Any], schema: Mapping[str, Any], path: str) -> str | None:
        properties = schema.get("properties")
        properties = properties if isinstance(properties, Mapping) else {}
        for name in schema.get("required") or ():
            if name not in value:
                return (
                    f"{_where(path)} lacks the required field {name!r}"
                    if path
                    else f"the required field {name!r} is missing"
                )
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            where = f"{path}.{name}" if path else str(name)
            if name in properties:
                found = self.error(item, properties[name], where)
            elif extra is False:
                found = f"{where} is not a field of the schema"
            else:
                found = self.error(item, extra, where) if isinstance(extra, Mapping) else None
            if found is not None:
                return found
        return None

    def _array(self, value: list[Any], schema: Mapping[str, Any], path: str) -> str | None:
        low, high = schema.get("minItems"), schema.get("maxItems")
        if isinstance(low, int) and len(value) < low:
            return f"{_where(path)} must have at least {low} items, not {len(value)}"
        if isinstance(high, int) and len(value) > high:
            return f"{_where(path)} must have at most {high} items, not {len(value)}"
        items = schema.get("items")
        if isinstance(items, Mapping | bool):
            for index, item in enumerate(value):
                found = self.error(item, items, f"{path}[{index}]")
                if found is not None:
                    return found
        return None


def validate(instance: Any, schema: Mapping[str, Any]) -> str | None:
    """Why ``instance`` does not fit the JSON Schema ``schema``, in one line (naming the field); None if it fits."""
    return _Validator(schema).error(instance, schema, "")


def _schema_problems(schema: Mapping[str, Any], path: str = "schema") -> list[Problem]:
    """What makes ``schema`` unusable: a ``type`` that is not a JSON type, a non-object ``properties``."""
    found: list[Problem] = []
    wanted = schema.get("type")
    if wanted is not None:
        options = [wanted] if isinstance(wanted, str) else wanted if isinstance(wanted, list) else [wanted]
        bad = [t for t in options if t not in _TYPES]
        if bad:
            found.append(Problem(path, f"has type {bad[0]!r}; a JSON Schema type is one of {', '.join(_TYPES)}"))
    properties = schema.get("properties")
    if properties is not None:
        if not isinstance(properties, Mapping):
            found.append(Problem(path, f"'properties' must be an object, not {type(properties).__name__}"))
        else:
            for name, sub in properties.items():
                if isinstance(sub, Mapping):
                    found += _schema_problems(sub, f"{path}.properties.{name}")
                elif not isinstance(sub, bool):
                    found.append(Problem(f"{path}.properties.{name}", "must be a schema (an object)"))
    required = schema.get("required")
    if required is not None and (not isinstance(required, list) or not all(isinstance(r, str) for r in required)):
        found.append(Problem(path, "'required' must be a list of field names"))
    items = schema.get("items")
    if isinstance(items, Mapping):
        found += _schema_problems(items, f"{path}.items")
    return found


def _is_model(value: object) -> bool:
    return isinstance(value, type) and callable(getattr(value, "model_json_schema", None))


def _model_path(model: type) -> str | None:
    """``module:qualname`` of a model class that can be imported again by that name; None otherwise."""
    if "<locals>" in model.__qualname__ or model.__module__ == "__main__":
        return None
    return f"{model.__module__}:{model.__qualname__}"


def _import_model(path: str) -> type | None:
    module_name, _, qualname = path.partition(":")
    try:
        target: Any = importlib.import_module(module_name)
        for part in qualname.split("."):
            target = getattr(target, part)
    except (ImportError, AttributeError, ValueError):
        return None
    return target if _is_model(target) else None


class Schema:
    """A JSON Schema that a job's replies must fit, with the pydantic model it came from, if any.

    Made by :meth:`of` from a JSON Schema (a dict; its top level must be an object, as JSON mode replies with
    one) or a pydantic model class (``Model.model_json_schema()``; pydantic is never required otherwise).
    Requests made for it carry ``response_format`` :data:`JSON_MODE` and :attr:`instruction` in their system
    prompt; :meth:`check` parses and validates a result.
    """

    def __init__(
        self, json_schema: Mapping[str, Any], model: type | None = None, model_path: str | None = None
    ) -> None:
        self.json_schema: dict[str, Any] = dict(json_schema)
        """The JSON Schema itself."""
        self.model: type | None = model
        """The pydantic model class, when the schema is one (replies parse to its instances)."""
        self.model_path: str | None = (
            model_path if model_path is not None else (_model_path(model) if model is not None else None)
        )
        """``module:qualname`` of the model, kept in the job's ledger so that another process can import it."""
        text = json.dumps(self.json_schema, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        self.fingerprint: str = hashlib.sha256(text.encode()).hexdigest()[:16]
        """The first 16 hex digits of the SHA-256 of the schema's canonical JSON: which schema, in a few bytes."""

    @classmethod
    def of(cls, value: object) -> Schema:
        """The schema of a JSON Schema dict, a pydantic model class, or a Schema; InputValidationError if bad.

        The error is one line naming the part of the schema at fault, raised before anything is sent.
        """
        if isinstance(value, Schema):
            return value
        if _is_model(value):
            assert isinstance(value, type)
            return cls(value.model_json_schema(), value)  # type: ignore[attr-defined]
        if not isinstance(value, Mapping):
            raise InputValidationError(
                "nothing was sent",
                [
                    Problem(
                        "schema",
                        f"must be a JSON Schema (a dict) or a pydantic model class, not {type(value).__name__}",
                    )
                ],
            )
        try:
            json.dumps(value)
        except (TypeError, ValueError) as exc:
            raise InputValidationError("nothing was sent", [Problem("schema", f"is not JSON ({exc})")]) from None
        problems = _schema_problems(value)
        if value.get("type", "object") != "object":
            problems.insert(
                0,
                Problem(
                    "schema", f"must describe an object (JSON mode replies with one), not type {value.get('type')!r}"
                ),
            )
        if problems:
            raise InputValidationError("nothing was sent", problems[:1])
        return cls(value)

    @property
    def name(self) -> str:
        """The schema's ``title`` (a pydantic model's class name), or ``"response"``."""
        title = self.json_schema.get("title")
        return title if isinstance(title, str) and title else "response"

    @property
    def properties(self) -> list[str]:
        """The top-level property names, in the schema's order (the columns a results table gives them)."""
        found = self.json_schema.get("properties")
        return [str(name) for name in found] if isinstance(found, Mapping) else []

    def property_type(self, name: str) -> str | None:
        """The JSON type of a top-level property when it is one simple type (``"integer"``, ...), else None."""
        found = self.json_schema.get("properties")
        sub = found.get(name) if isinstance(found, Mapping) else None
        if not isinstance(sub, Mapping):
            return None
        sub = _Validator(self.json_schema).resolve(sub)
        kind = sub.get("type")
        if isinstance(kind, list):
            kinds = [k for k in kind if k != "null"]
            kind = kinds[0] if len(kinds) == 1 else None
        if kind is None:
            options = [o for o in sub.get("anyOf") or () if isinstance(o, Mapping) and o.get("type") != "null"]
            kind = options[0].get("type") if len(options) == 1 else None
        values = sub.get("enum") if isinstance(sub.get("enum"), list) else [sub["const"]] if "const" in sub else None
        if kind is None and values:  # an enum (or const) of one kind of value is a column of that kind
            found_kinds = {_kind(v) for v in values if v is not None}
            kind = found_kinds.pop() if len(found_kinds) == 1 else None
        return kind if isinstance(kind, str) else None

    @property
    def response_format(self) -> dict[str, str]:
        """What a request for this schema carries: ``{"type": "json_object"}`` (see the module's doc)."""
        return dict(JSON_MODE)

    @property
    def instruction(self) -> str:
        """The sentence a request's system prompt carries (JSON mode needs the prompt to ask for JSON)."""
        text = json.dumps(self.json_schema, ensure_ascii=False, separators=(",", ":"))
        return f"Answer with one JSON object, and nothing else, that fits this JSON Schema:\n```json\n{text}\n```"

    def parse(self, text: str) -> tuple[Any, str | None]:
        """``(value, None)`` for a reply's text that is JSON (fenced or not) and fits, else ``(None, why)``."""
        try:
            data = json.loads(extract_json(text))
        except (ValueError, RecursionError) as exc:
            return None, _one_line(f"the reply is not valid JSON ({exc})")
        if self.model is not None:
            try:
                return self.model.model_validate(data), None  # type: ignore[attr-defined]
            except ValueError as exc:  # pydantic's ValidationError is a ValueError
                errors = getattr(exc, "errors", None)
                first = errors()[0] if callable(errors) and errors() else None
                if first is not None:
                    where = ".".join(str(p) for p in first.get("loc", ())) or "the value"
                    return None, _one_line(f"the reply does not fit the schema: {where}: {first.get('msg')}")
                return None, _one_line(f"the reply does not fit the schema: {exc}")
        problem = validate(data, self.json_schema)
        if problem is not None:
            return None, _one_line(f"the reply does not fit the schema: {problem}")
        return data, None

    def check(self, result: BatchResult) -> tuple[Any, str | None]:
        """``(parsed, None)`` or ``(None, parse_error)`` for one result: failed, truncated and reasoning-only fail."""
        if not result.ok:
            return None, _one_line(f"no reply to parse: {result.error_message or 'the request failed'}")
        return self.check_reply(result.content, result.finish_reason, result.reasoning_content)

    def check_reply(
        self, content: str | None, finish_reason: str | None, reasoning_content: str | None
    ) -> tuple[Any, str | None]:
        """:meth:`check` of a successful request's reply, from its fields (the table writers read them in bulk)."""
        if finish_reason == "length":
            return None, "the reply was cut at max_tokens (finish_reason length): not whole JSON"
        if content is None or not content.strip():
            if reasoning_content:
                return None, "the reply has reasoning but no content (raise max_tokens or thinking_budget)"
            return None, "the reply has no content"
        return self.parse(content)

    def to_json(self) -> dict[str, Any]:
        """The schema as a job's ledger keeps it: the JSON Schema and the model's import path."""
        return {"json_schema": self.json_schema, "model": self.model_path}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Schema:
        """The schema a ledger kept; its model is imported again when it can be and still gives the same schema."""
        json_schema = data["json_schema"]
        path = data.get("model")
        model = _import_model(path) if isinstance(path, str) else None
        if model is not None and cls(model.model_json_schema()).fingerprint != cls(json_schema).fingerprint:  # type: ignore[attr-defined]
            model = None  # the class changed since: its instances would not be what the job validated
        return cls(json_schema, model, path)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Schema) and other.fingerprint == self.fingerprint

    def __hash__(self) -> int:
        return hash(self.fingerprint)

    def __repr__(self) -> str:
        what = f"model={self.model.__name__}" if self.model is not None else f"name={self.name!r}"
        return f"Schema({what}, fingerprint={self.fingerprint!r})"
