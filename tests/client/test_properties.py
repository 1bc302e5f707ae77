"""Property tests: every body the spec allows parses and round-trips; nothing malformed escapes our errors.

Bodies are generated from the corrected spec's own schemas (``from_schema`` below, for the subset of JSON
Schema the spec uses), so the tests follow the spec through every regeneration.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

import siliconflow_batch as sf
from siliconflow_batch._exceptions import make_status_error
from siliconflow_batch._parse import parse_batch, parse_batch_page, parse_file_list, parse_uploaded_file
from siliconflow_batch._results import ResultLineError, Splitter, parse_result_line

from helpers import GET_PAGE_BODY, media_schema
from regenerate import build_spec

SPEC = build_spec()
PROPERTIES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
REQUEST = httpx.Request("GET", "https://api.test/v1/batches/batch_1")
BATCH_EXAMPLE = GET_PAGE_BODY


def _resolve(schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = SPEC["components"]["schemas"][schema["$ref"].rsplit("/", 1)[-1]]
    return schema


_SCALARS: dict[str, st.SearchStrategy[Any]] = {
    "integer": st.integers(-(2**63), 2**63),
    "number": st.floats(allow_nan=False, allow_infinity=False),
    "boolean": st.booleans(),
}
EXTRA_KEYS = st.text(min_size=1, max_size=8)


def from_schema(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    """Values an OpenAPI 3.0 schema allows (the keywords spec/openapi.yaml uses; refs followed)."""
    schema = _resolve(schema)
    strategy: st.SearchStrategy[Any]
    if "enum" in schema:
        strategy = st.sampled_from(schema["enum"])
    elif "oneOf" in schema:
        strategy = st.one_of([from_schema(option) for option in schema["oneOf"]])
    elif schema.get("type") == "array":
        strategy = st.lists(from_schema(schema.get("items", {})), max_size=4)
    elif schema.get("type") == "object" or "properties" in schema:
        strategy = _object(schema)
    elif schema.get("type") == "string":
        strategy = st.text(max_size=schema.get("maxLength", 30))
    elif schema.get("type") in _SCALARS:
        strategy = _SCALARS[schema["type"]]
    else:
        strategy = ANY_JSON
    return st.none() | strategy if schema.get("nullable") else strategy


def _object(schema: dict[str, Any]) -> st.SearchStrategy[dict[str, Any]]:
    properties = schema.get("properties", {})
    required = set(schema.get("required", []))
    extra = schema.get("additionalProperties", True)
    limit = schema.get("maxProperties", 4)
    values = from_schema(extra) if isinstance(extra, dict) else ANY_JSON
    extras = st.dictionaries(EXTRA_KEYS.filter(lambda k: k not in properties), values, max_size=min(limit, 3))
    fixed = st.fixed_dictionaries(
        {k: from_schema(v) for k, v in properties.items() if k in required},
        optional={k: from_schema(v) for k, v in properties.items() if k not in required},
    )
    if extra is False:
        return fixed
    return st.builds(lambda known, more: {**more, **known}, fixed, extras)


ANY_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)

BATCH = {"$ref": "#/components/schemas/Batch"}
PAGE = media_schema(SPEC, "/batches", "get")
UPLOADED = media_schema(SPEC, "/files", "post")
FILES = media_schema(SPEC, "/files", "get")


def _response(body: bytes, status: int = 200) -> httpx.Response:
    return httpx.Response(status, content=body, request=REQUEST)


@PROPERTIES
@given(from_schema(BATCH))
def test_every_valid_batch_parses_and_round_trips(body: dict[str, Any]) -> None:
    batch = parse_batch(_response(json.dumps(body).encode()))
    assert batch.to_dict() == body
    assert batch.is_terminal == (body["status"] in ("completed", "failed", "expired", "cancelled"))


@PROPERTIES
@given(from_schema(PAGE))
def test_every_valid_page_parses(body: dict[str, Any]) -> None:
    page = parse_batch_page(_response(json.dumps(body).encode()))
    assert [b.to_dict() for b in page.data] == body.get("data", [])


@PROPERTIES
@given(from_schema(UPLOADED), from_schema(FILES))
def test_every_valid_envelope_parses(uploaded: dict[str, Any], files: dict[str, Any]) -> None:
    if "data" in uploaded:
        assert parse_uploaded_file(_response(json.dumps(uploaded).encode())).id == uploaded["data"]["id"]
    listed = parse_file_list(_response(json.dumps(files).encode()))
    assert [f.id for f in listed] == [f["id"] for f in (files.get("data") or {}).get("data", [])]


MUTATIONS = st.sampled_from(["drop", "retype", "extra", "replace"])
# What a batch must have to be read at all: every required field present, and an id and a status that are strings.
# Any other field of another shape is kept raw (the tolerant reader).
REQUIRED = frozenset(_resolve(BATCH)["required"])
ESSENTIAL = ("id", "status")


def _fits(value: Any) -> bool:
    return (
        isinstance(value, dict) and value.keys() >= REQUIRED and all(isinstance(value[key], str) for key in ESSENTIAL)
    )


def _decoded(raw: bytes) -> Any:
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None


def test_the_required_fields_are_what_the_spec_says() -> None:
    assert {"id", "status", "object", "created_at"} <= REQUIRED  # the oracle below is not vacuous


# Every run tries the essential fields at their edge (a number or null for a string, or missing), whatever else it
# draws: a parser that accepted any id or status would pass most random runs.
_ESSENTIAL_EDGES = [
    example(BATCH_EXAMPLE, mutation, key, value, "x")
    for key in ESSENTIAL
    for mutation, value in [("retype", 7), ("retype", None), ("retype", ["x"]), ("drop", None)]
]


def _with_edges(test: Any) -> Any:
    for edge in _ESSENTIAL_EDGES:
        test = edge(test)
    return test


@PROPERTIES
@_with_edges
@given(from_schema(BATCH), MUTATIONS, st.text(min_size=1, max_size=20), ANY_JSON, st.text(min_size=1, max_size=10))
def test_mutated_batches_parse_or_raise_our_error(
    body: dict[str, Any], mutation: str, pick: str, replacement: Any, extra: str
) -> None:
    key = pick if pick in body else sorted(body)[len(pick) % len(body)]  # a field of the body, or the named one
    value: Any = body
    if mutation == "drop":
        value = {k: v for k, v in body.items() if k != key}
    elif mutation == "retype":
        value = {**body, key: replacement}
    elif mutation == "extra":
        value = {**body, extra: replacement}
    else:
        value = replacement
    _parses_exactly_when_it_fits(json.dumps(value).encode())


@pytest.mark.parametrize("key", sorted(REQUIRED))
def test_a_batch_without_a_required_field_raises_our_error(key: str) -> None:
    body = {k: v for k, v in BATCH_EXAMPLE.items() if k != key}
    with pytest.raises(sf.APIResponseValidationError, match=f"field {key!r} required field is missing"):
        parse_batch(_response(json.dumps(body).encode()))


@pytest.mark.parametrize("key", ESSENTIAL)
@pytest.mark.parametrize("value", [None, 7, ["x"], {"x": 1}])
def test_a_batch_whose_id_or_status_is_not_a_string_raises_our_error(key: str, value: Any) -> None:
    with pytest.raises(sf.APIResponseValidationError, match=f"field {key!r} expected str"):
        parse_batch(_response(json.dumps({**BATCH_EXAMPLE, key: value}).encode()))


@PROPERTIES
@given(from_schema(BATCH), st.data())
def test_damaged_bytes_parse_or_raise_our_error(body: dict[str, Any], data: st.DataObject) -> None:
    raw = json.dumps(body).encode()
    damage = data.draw(st.sampled_from(["truncate", "bytes", "latin1", "huge", "deep"]))
    if damage == "truncate":
        raw = raw[: data.draw(st.integers(0, len(raw) - 1))]
    elif damage == "bytes":
        raw = data.draw(st.binary(max_size=200))
    elif damage == "latin1":
        raw = raw.replace(b'"batch"', '"bätch"'.encode("latin-1"))
    elif damage == "huge":
        raw = json.dumps({**body, "created_at": 10**400, "expires_at": -(10**50)}).encode()
    else:
        raw = b"[" * 50_000 + b"]" * 50_000
    if damage in ("truncate", "deep"):
        assert not _fits(_decoded(raw))  # a cut object is never JSON; 50,000 levels are past the decoder
    _parses_exactly_when_it_fits(raw)


def _parses_exactly_when_it_fits(raw: bytes) -> None:
    """A body that fits parses to the batch it says; any other raises our error, naming the request; nothing else."""
    value = _decoded(raw)
    if not _fits(value):
        with pytest.raises(sf.APIResponseValidationError, match=r"^GET https://api\.test/v1/batches/batch_1: "):
            parse_batch(_response(raw))
        return
    batch = parse_batch(_response(raw))
    assert batch.id == value["id"]
    assert batch.status.casefold() == value["status"].casefold()  # statuses in another case read as known ones
    assert {**batch.to_dict(), "status": value["status"]} == value  # every other field as the server sent it


@PROPERTIES
@given(st.integers(400, 599), st.one_of(st.binary(max_size=100), ANY_JSON.map(lambda v: json.dumps(v).encode())))
def test_any_error_response_maps_to_a_status_error(status: int, body: bytes) -> None:
    error = make_status_error(_response(body, status))
    assert isinstance(error, sf.APIStatusError)
    assert error.status_code == status
    assert str(error).startswith(f"GET https://api.test/v1/batches/batch_1: {status}")


@settings(max_examples=60, deadline=None)
@given(st.integers(200, 599), st.binary(max_size=80))
def test_the_client_raises_only_its_own_errors(status: int, body: bytes) -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(status, content=body))
    client = sf.SiliconFlow(
        api_key="k", base_url="https://api.test/v1", max_retries=0, http_client=httpx.Client(transport=transport)
    )
    # 80 bytes cannot hold a batch (its required fields' names alone are longer): every answer is an error.
    with pytest.raises((sf.APIStatusError, sf.APIResponseValidationError)) as caught:  # anything else fails
        client.batches.retrieve("batch_1")
    if status >= 400:
        assert isinstance(caught.value, sf.APIStatusError)
        assert caught.value.status_code == status


# --- result files --------------------------------------------------------------------------------------------

RESULT_LINE = st.builds(
    lambda cid, status: json.dumps(
        {"id": "r", "custom_id": cid, "error": None, "response": {"status_code": status, "request_id": "q", "body": {}}}
    ).encode(),
    st.text(min_size=1, max_size=12).filter(lambda s: "\n" not in s and "\r" not in s),
    st.sampled_from([200, 400, 500]),
)
BAD_LINE = st.one_of(
    st.binary(min_size=1, max_size=40).filter(lambda b: b"\n" not in b and b.strip() != b""),
    ANY_JSON.map(lambda v: json.dumps(v).encode()).filter(lambda b: not b.startswith(b"{")),
    st.just(b'{"custom_id": ""}'),
)


@PROPERTIES
@given(st.lists(st.tuples(st.booleans(), RESULT_LINE, BAD_LINE), max_size=20), st.integers(1, 64))
def test_result_lines_parse_or_name_their_line(rows: list[tuple[bool, bytes, bytes]], chunk: int) -> None:
    lines = [good if keep else bad for keep, good, bad in rows]
    stream = b"\n".join(lines) + b"\n"
    chunks = [stream[i : i + chunk] for i in range(0, len(stream), chunk)]
    good_numbers = []
    for number, raw in enumerate(iter_lines(chunks), start=1):
        failure: ResultLineError | None = None
        try:
            result = parse_result_line(raw, number, "output")
        except ResultLineError as error:
            failure, result = error, None
        if failure is not None:
            assert failure.line == number
            assert str(failure).startswith(f"output file, line {number}: ")
        elif result is not None:
            good_numbers.append(number)
    assert good_numbers == [i + 1 for i, (keep, _, _) in enumerate(rows) if keep]


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_skip_bad_lines_reads_every_good_line(mode: str) -> None:
    from fakes import FakeAPI, batch, make_client, run, stream

    good = [
        json.dumps({"custom_id": f"c{i}", "response": {"status_code": 200, "body": {}}, "error": None}).encode()
        for i in range(5)
    ]
    body = b"\n".join([good[0], b"\xff\xfe", good[1], b"[" * 5000, good[2], b"{}", good[3], b"null", good[4]])
    api = FakeAPI().on("GET /files/out/content", stream([body]))
    done = sf.Batch.from_dict(batch(status="completed", output_file_id="out"))
    results = run(make_client(mode, api).batches.results(done, skip_bad_lines=True))
    assert [(r.custom_id, r.line) for r in results] == [("c0", 1), ("c1", 3), ("c2", 5), ("c3", 7), ("c4", 9)]


def iter_lines(chunks: Iterable[bytes]) -> list[bytes]:
    """What the results reader makes of a body's chunks (its Splitter, fed chunk by chunk)."""
    splitter = Splitter()
    return [line for chunk in chunks for line in splitter.feed(chunk)] + splitter.end()
