"""Turning 2xx responses into typed objects, or one APIResponseValidationError that names the field.

The generated ``from_dict`` methods trust the server: a missing key is a KeyError, a wrong type passes
silently. Here every parsed object is also checked against the generated classes' own annotations, so the
check follows the spec through every regeneration with nothing written twice.

Tolerant reader: only the essential fields (``ESSENTIAL``) must fit. Any other field of an unexpected shape
keeps its raw JSON value, with one warning per class and field, instead of sinking the object or its page.
"""

from __future__ import annotations

import enum
import json
import logging
import threading
import types
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar, Union, get_args, get_origin, get_type_hints

import attrs
import httpx

import siliconflow_batch_generated.models as _models  # its models load lazily (PEP 562)
from siliconflow_batch_generated.types import Unset

from ._exceptions import APIResponseValidationError, make_status_error, where

if TYPE_CHECKING:
    from .types import AccountInfo, Batch, BatchPage, FileObject

__all__ = [
    "check",
    "parse_account",
    "parse_batch",
    "parse_batch_page",
    "parse_file_list",
    "parse_json",
    "parse_uploaded_file",
]

T = TypeVar("T")
_NAMESPACE: dict[str, Any] = {}
# Fields without which an object means nothing: a batch with no id or status cannot be polled or fetched.
ESSENTIAL = frozenset({"id", "status", "data"})
# The caches below are filled on first use, possibly by many threads at once.
_LOCK = threading.RLock()
_WARNED: set[tuple[str, str]] = set()
logger = logging.getLogger("siliconflow_batch")


class _Mismatch(Exception):
    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path}: {message}")
        self.path = path


def parse_json(response: httpx.Response) -> Any:
    """The response body as JSON, or an APIResponseValidationError saying why it is not."""
    try:
        return json.loads(response.content)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        preview = response.content[:80].decode("utf-8", "replace")
        raise APIResponseValidationError(
            f"{_where(response)}: the body is not JSON ({exc.__class__.__name__}): {preview!r}", response=response
        ) from exc


# The generated models and our types load with the first parse, not with the client (import cost).


def parse_batch(response: httpx.Response) -> Batch:
    """A Batch from a get, create or cancel answer."""
    from .types import Batch

    return _model(Batch, parse_json(response), response, "")


def parse_batch_page(response: httpx.Response) -> BatchPage:
    """A page of batches; each item is parsed into our :class:`Batch`, so helpers like ``is_terminal`` work."""
    from siliconflow_batch_generated.models.batch_list import BatchList

    from .types import Batch, BatchPage

    body = parse_json(response)
    if not isinstance(body, dict):
        raise _invalid(response, "", f"expected an object, got {type(body).__name__}")
    if body.get("status") is False or ("data" not in body and "message" in body):
        raise make_status_error(response, envelope=True)  # an error envelope under a 200 is not an empty page
    items = body.get("data", [])
    if not isinstance(items, list):
        raise _invalid(response, "data", f"expected a list, got {type(items).__name__}")
    meta = _model(BatchList, {k: v for k, v in body.items() if k != "data"}, response, "")
    data = [_model(Batch, item, response, f"data[{i}]") for i, item in enumerate(items)]
    return BatchPage(
        data=data,
        has_more=meta.has_more if isinstance(meta.has_more, bool) else False,
        first_id=meta.first_id if isinstance(meta.first_id, str) else None,
        last_id=meta.last_id if isinstance(meta.last_id, str) else None,
    )


def parse_uploaded_file(response: httpx.Response) -> FileObject:
    """The file from an upload answer, out of its envelope."""
    from siliconflow_batch_generated.models.uploaded_file_envelope import UploadedFileEnvelope

    from .types import FileObject

    envelope = _envelope(UploadedFileEnvelope, response)
    if isinstance(envelope.data, Unset):
        raise _invalid(response, "data", "missing from a successful envelope")
    return FileObject.from_uploaded(envelope.data)


def parse_file_list(response: httpx.Response) -> list[FileObject]:
    """The files from a list answer, out of its envelope."""
    from siliconflow_batch_generated.models.file_list_envelope import FileListEnvelope

    from .types import FileObject

    envelope = _envelope(FileListEnvelope, response)
    if isinstance(envelope.data, Unset) or isinstance(envelope.data.data, Unset):
        return []
    return [FileObject.from_listed(item) for item in envelope.data.data]


def parse_account(response: httpx.Response) -> AccountInfo:
    """The account from a ``GET /user/info`` answer, out of its envelope; balances as Decimals."""
    from siliconflow_batch_generated.models.user_info_response_200 import UserInfoResponse200

    from .types import AccountInfo, decimal_or_none

    envelope = _envelope(UserInfoResponse200, response)
    if isinstance(envelope.data, Unset):
        raise _invalid(response, "data", "missing from a successful envelope")
    data = envelope.data

    def text(value: Any) -> str | None:
        return value if isinstance(value, str) else None

    return AccountInfo(
        id=text(data.id),
        name=text(data.name),
        email=text(data.email),
        is_admin=data.is_admin if isinstance(data.is_admin, bool) else None,
        status=text(data.status),
        balance=decimal_or_none(data.balance),
        charge_balance=decimal_or_none(data.charge_balance),
        total_balance=decimal_or_none(data.total_balance),
        extra=dict(data.additional_properties),
    )


def _envelope(cls: type[T], response: httpx.Response) -> T:
    body = parse_json(response)
    # An envelope that says status false is an error even under a 200.
    if isinstance(body, dict) and body.get("status") is False:
        raise make_status_error(response, envelope=True)
    return _model(cls, body, response, "")


def _model(cls: type[T], data: Any, response: httpx.Response, path: str) -> T:
    if not isinstance(data, dict):
        raise _invalid(response, path, f"expected an object, got {type(data).__name__}")
    raw: dict[str, Any] = {}  # non-essential fields set aside: the generated parser could not take them
    while True:
        try:
            source = {k: v for k, v in data.items() if k not in raw} if raw else data
            parsed = cls.from_dict(source)  # type: ignore[attr-defined]
            break
        except KeyError as exc:
            raise _invalid(response, _join(path, str(exc.args[0])), "required field is missing") from exc
        except (TypeError, ValueError, AttributeError) as exc:
            name = _blame(cls, data, raw)
            if name is None or name in ESSENTIAL or name in raw:
                raise _invalid(response, _join(path, name or ""), f"cannot be parsed: {exc}") from exc
            raw[name] = data[name]
    if not _predicate(cls)(parsed):
        _tolerate(parsed, data, path, response, raw, {_attribute(cls, name) for name in raw})
    elif raw:
        _keep_raw(parsed, raw)
    return parsed  # type: ignore[no-any-return]


def _tolerate(
    obj: Any, data: dict[str, Any], path: str, response: httpx.Response, raw: dict[str, Any], skip: set[str]
) -> None:
    """Keep the raw value of each non-essential field that does not fit; look inside an essential nested object."""
    for attribute, mismatch in _mismatches(obj, path, skip):
        key = attribute.rstrip("_")
        value = getattr(obj, attribute)
        if key in ESSENTIAL:
            if attrs.has(type(value)) and isinstance(data.get(key), dict):  # an envelope's data: fix inside it
                _tolerate(value, data[key], _join(path, key), response, {}, set())
                continue
            raise _invalid(response, mismatch.path, str(mismatch).split(": ", 1)[1]) from None
        raw[key] = data.get(key)
    _keep_raw(obj, raw)


def _keep_raw(obj: Any, raw: dict[str, Any]) -> None:
    for name, value in raw.items():
        _warn_once(type(obj), name, value)
        setattr(obj, _attribute(type(obj), name), value)


def _attribute(cls: type, key: str) -> str:
    """The attrs attribute that holds JSON key ``key`` (``object`` is held by ``object_``)."""
    names = {a.name for a in attrs.fields(cls)}
    return key if key in names else f"{key}_"


def _warn_once(cls: type, name: str, value: Any) -> None:
    if (cls.__name__, name) not in _WARNED:
        _WARNED.add((cls.__name__, name))
        logger.warning(
            "%s.%s has an unexpected shape (%s %s); its raw value is kept (warned once)",
            cls.__name__,
            name,
            type(value).__name__,
            _preview(value),
        )


def _blame(cls: type, data: dict[str, Any], raw: dict[str, Any]) -> str | None:
    """The field the generated code could not convert, or None when no single field is to blame.

    That is an enum given a non-string, else the first optional field whose removal lets the object parse.
    """
    for name, hint in _fields(cls):
        key = name.rstrip("_")
        enums = [a for a in get_args(hint) or (hint,) if isinstance(a, type) and issubclass(a, enum.Enum)]
        if enums and key in data and not isinstance(data[key], str):
            return key
    required = {a.name.rstrip("_") for a in attrs.fields(cls) if a.default is attrs.NOTHING}
    for key in data:
        if key in raw or key in required or key in ESSENTIAL:
            continue
        try:
            cls.from_dict({k: v for k, v in data.items() if k != key and k not in raw})  # type: ignore[attr-defined]
        except (TypeError, ValueError, AttributeError, KeyError):
            continue
        return key
    return None


def check(obj: Any, path: str = "") -> None:
    """Check every field of a generated attrs object against its annotation, recursively (strictly).

    The fast compiled predicate decides; only a failure walks the annotations again to name the field.
    """
    if not _predicate(type(obj))(obj):
        _explain(obj, path)


def _explain(obj: Any, path: str) -> None:
    for _, mismatch in _mismatches(obj, path, set()):
        raise mismatch


def _mismatches(obj: Any, path: str, skip: set[str]) -> Iterator[tuple[str, _Mismatch]]:
    """Each top-level attribute of ``obj`` (outside ``skip``) that does not fit, with where and why."""
    for name, hint in _fields(type(obj)):
        if name in skip:
            continue
        value = getattr(obj, name)
        where = path if name == "additional_properties" else _join(path, name.rstrip("_"))
        try:
            if _matches(value, hint, where):
                continue
            mismatch = _Mismatch(where, f"expected {_describe(hint)}, got {type(value).__name__} {_preview(value)}")
        except _Mismatch as inner:
            mismatch = inner
        yield name, mismatch


Predicate = Callable[[Any], bool]
_PREDICATES: dict[type, Predicate] = {}
_EXACT = {int, str, bool, type(None), Unset}


def _predicate(cls: type) -> Predicate:
    """A function telling whether an instance of the attrs class ``cls`` fits its annotations.

    It is generated as straight-line code (as attrs generates its own methods): one test per field, no loop,
    no call for the common case of exact types.
    """
    predicate = _PREDICATES.get(cls)
    if predicate is not None:
        return predicate
    with _LOCK:  # built once, and published only when complete (nested models are looked up at check time)
        return _compile_predicate(cls)


def _compile_predicate(cls: type) -> Predicate:
    predicate = _PREDICATES.get(cls)
    if predicate is None:
        namespace: dict[str, Any] = {}
        lines = ["def check(obj):"]
        for index, (name, hint) in enumerate(_fields(cls)):
            exact, other = _split(hint)
            test = []
            if exact:
                namespace[f"exact{index}"] = exact
                test.append(f"type(v) in exact{index}")
            if other is not None:
                namespace[f"other{index}"] = other
                test.append(f"other{index}(v)")
            lines += [f"    v = obj.{name}", f"    if not ({' or '.join(test) or 'False'}):", "        return False"]
        lines.append("    return True")
        exec("\n".join(lines), namespace)  # the source is built from attribute names and our own constants
        predicate = namespace["check"]
        _PREDICATES[cls] = predicate
    return predicate


def _split(hint: Any) -> tuple[frozenset[type], Predicate | None]:
    """The exact types a hint accepts by ``type(v) in ...``, and a predicate for the rest (or None)."""
    origin = get_origin(hint)
    args = get_args(hint) if origin is Union or origin is types.UnionType else (hint,)
    exact = frozenset(a for a in args if a in _EXACT) | ({int, float} if float in args else set())
    rest = [a for a in args if a not in exact and a is not float]
    if not rest:
        return exact, None
    checks = [_compile(a) for a in rest]
    return exact, checks[0] if len(checks) == 1 else (lambda value: any(ok(value) for ok in checks))


def _compile(hint: Any) -> Predicate:
    """Turn an annotation into a predicate once, so that checking a value is a few type comparisons."""
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        args = get_args(hint)
        exact = frozenset(a for a in args if a in _EXACT) | ({int, float} if float in args else set())
        others = [_compile(a) for a in args if a not in exact and a is not float]
        if not others:
            return lambda value: type(value) in exact
        return lambda value: type(value) in exact or any(ok(value) for ok in others)
    if hint is Any:
        return lambda value: True
    if hint in _EXACT:
        return lambda value: type(value) is hint
    if hint is float:
        return lambda value: type(value) in (int, float)
    if origin is list:
        item = _compile(get_args(hint)[0])
        return lambda value: type(value) is list and all(map(item, value))
    if origin is dict:
        item = _compile(get_args(hint)[1])
        return lambda value: type(value) is dict and all(map(item, value.values()))
    if isinstance(hint, type) and attrs.has(hint):
        return lambda value: isinstance(value, hint) and _predicate(hint)(value)
    if isinstance(hint, type):
        return lambda value: isinstance(value, hint)
    return lambda value: False


_FIELDS: dict[type, tuple[tuple[str, Any], ...]] = {}


def _fields(cls: type) -> tuple[tuple[str, Any], ...]:
    fields = _FIELDS.get(cls)
    if fields is not None:
        return fields
    with _LOCK:
        return _load_fields(cls)


def _load_fields(cls: type) -> tuple[tuple[str, Any], ...]:
    fields = _FIELDS.get(cls)
    if fields is None:
        if not _NAMESPACE:  # the generated annotations name every model; load them once, on first parse
            _NAMESPACE.update({name: getattr(_models, name) for name in _models.__all__}, Unset=Unset, Any=Any)
        hints = get_type_hints(cls, globalns=_NAMESPACE)
        fields = tuple((a.name, hints[a.name]) for a in attrs.fields(cls) if hints.get(a.name, Any) is not Any)
        _FIELDS[cls] = fields
    return fields


def _matches(value: Any, hint: Any, path: str) -> bool:
    origin = get_origin(hint)
    if origin is Union or origin is types.UnionType:
        return any(_matches(value, arg, path) for arg in get_args(hint))
    if hint is Any:
        return True
    if hint is type(None):
        return value is None
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, int | float) and not isinstance(value, bool)
    if origin is list or origin is dict:
        # Once the container's own type fits, a bad item is the error to report (no other arm of the
        # generated unions is a container of the same kind).
        if not isinstance(value, origin):
            return False
        item_hint = get_args(hint)[-1]
        items: Any = enumerate(value) if isinstance(value, list) else value.items()
        for key, item in items:
            where = f"{path}[{key}]" if origin is list else _join(path, str(key))
            if not _matches(item, item_hint, where):
                raise _Mismatch(where, f"expected {_describe(item_hint)}, got {type(item).__name__} {_preview(item)}")
        return True
    if not isinstance(hint, type) or not isinstance(value, hint):
        return False
    if attrs.has(hint):
        _explain(value, path)
    return True


def _describe(hint: Any) -> str:
    args = [a for a in get_args(hint) if a is not Unset] if get_origin(hint) in (Union, types.UnionType) else [hint]
    return " or ".join("null" if a is type(None) else getattr(a, "__name__", str(a)) for a in args)


def _preview(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _join(path: str, name: str) -> str:
    return f"{path}.{name}" if path and name else path or name


def _where(response: httpx.Response) -> str:
    return where(response.request)


def _invalid(response: httpx.Response, field: str, message: str) -> APIResponseValidationError:
    where = f"field {field!r}" if field else "the body"
    return APIResponseValidationError(f"{_where(response)}: {where} {message}", response=response, field=field or None)
