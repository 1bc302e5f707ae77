"""Structured outputs: a schema on from_rows or the job, each result parsed or with its parse_error, invalid
replies counted and (with resubmit_invalid) sent again, the parsed fields as table columns; against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import siliconflow_batch as sf
from siliconflow_batch import requests
from siliconflow_batch._records import BatchResult
from siliconflow_batch.structured import JSON_MODE, Schema, extract_json, validate
from siliconflow_batch.testing import Emulator, VirtualClock

from fakes import run
from job_support import MODEL, batches_per_shard_attempt, client_for

SCHEMA: dict[str, Any] = {
    "type": "object",
    "title": "Review",
    "properties": {
        "label": {"enum": ["pos", "neg", "neutral"]},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "stars": {"type": "integer", "minimum": 1, "maximum": 5},
        "tags": {"type": "array", "items": {"type": "string"}},
        "meta": {
            "type": "object",
            "properties": {"lang": {"type": "string"}, "spam": {"type": "boolean"}},
            "required": ["lang"],
        },
    },
    "required": ["label", "score", "stars"],
    "additionalProperties": False,
}


def _rows(count: int) -> list[dict[str, Any]]:
    return [{"id": f"doc-{i}", "text": f"review number {i}"} for i in range(count)]


def _ok(content: str | None, finish: str = "stop", reasoning: str | None = None) -> BatchResult:
    message: dict[str, Any] = {"role": "assistant", "content": content}
    if reasoning is not None:
        message["reasoning_content"] = reasoning
    body = {"choices": [{"message": message, "finish_reason": finish}], "usage": {}}
    return BatchResult("r0", {"status_code": 200, "body": body}, None)


# --- the validator and the parse of one result --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"label": "pos", "score": 0.5, "stars": 3}, None),
        ({"label": "pos", "score": 1, "stars": 3.0, "meta": {"lang": "en", "spam": False}}, None),
        ({"label": "bad", "score": 0.5, "stars": 3}, 'label must be one of "pos", "neg", "neutral"'),
        ({"label": "pos", "stars": 3}, "the required field 'score' is missing"),
        ({"label": "pos", "score": 2, "stars": 3}, "score must be <= 1, not 2"),
        ({"label": "pos", "score": 0.5, "stars": True}, "stars must be integer, not boolean"),
        ({"label": "pos", "score": 0.5, "stars": 2.5}, "stars must be integer, not number"),
        ({"label": "pos", "score": 0.5, "stars": 3, "tags": ["a", 1]}, "tags[1] must be string, not integer"),
        ({"label": "pos", "score": 0.5, "stars": 3, "meta": {}}, "meta lacks the required field 'lang'"),
        ({"label": "pos", "score": 0.5, "stars": 3, "extra": 1}, "extra is not a field of the schema"),
        ([1], "the value must be object, not array"),
    ],
)
def test_the_validator_names_the_field_at_fault(value: Any, problem: str | None) -> None:
    found = validate(value, SCHEMA)
    assert found == problem if problem is None else found is not None and found.startswith(problem)


def test_null_any_of_and_refs_as_pydantic_writes_them() -> None:
    schema = {
        "type": "object",
        "$defs": {"Item": {"type": "object", "properties": {"n": {"type": "integer"}}, "required": ["n"]}},
        "properties": {
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "items": {"type": "array", "items": {"$ref": "#/$defs/Item"}},
        },
    }
    assert validate({"note": None, "items": [{"n": 1}]}, schema) is None
    assert validate({"note": "x", "items": [{}]}, schema) == "items[0] lacks the required field 'n'"
    assert "fits none of its 2 forms" in (validate({"note": 3}, schema) or "")


def test_json_in_a_code_fence_is_accepted() -> None:
    assert extract_json('Here you are:\n```json\n{"a": 1}\n```\nDone.') == '{"a": 1}'
    assert extract_json('```\n{"a": 1}\n```') == '{"a": 1}'
    assert extract_json('  {"a": 1}  ') == '{"a": 1}'
    parsed = _ok('```json\n{"label": "neg", "score": 0.1, "stars": 1}\n```').parse(SCHEMA)
    assert parsed.parsed == {"label": "neg", "score": 0.1, "stars": 1}
    assert parsed.parse_error is None


@pytest.mark.parametrize(
    ("result", "error"),
    [
        (_ok('{"label": "pos", "sc'), "the reply is not valid JSON"),
        (_ok('{"label": "pos", "score": 0.5, "stars": 3}', finish="length"), "the reply was cut at max_tokens"),
        (_ok("", reasoning="Let me think..."), "the reply has reasoning but no content"),
        (_ok(None), "the reply has no content"),
        (_ok('{"label": "pos", "score": 0.5}'), "the reply does not fit the schema: the required field 'stars'"),
        (BatchResult("r0", None, {"code": "batch_expired", "message": "late"}), "no reply to parse: batch_expired"),
    ],
)
def test_a_result_that_is_not_valid_json_of_the_schema_has_a_one_line_parse_error(
    result: BatchResult, error: str
) -> None:
    parsed = result.parse(SCHEMA)
    assert parsed.parsed is None
    assert parsed.parse_error is not None
    assert parsed.parse_error.startswith(error)
    assert "\n" not in parsed.parse_error
    assert parsed.to_dict()["parse_error"] == parsed.parse_error
    assert "parsed" not in result.to_dict()  # a result never parsed says nothing of it


def test_a_pydantic_model_gives_its_instances() -> None:
    pydantic = pytest.importorskip("pydantic")

    class Review(pydantic.BaseModel):  # type: ignore[name-defined,misc]
        label: str
        stars: int

    schema = Schema.of(Review)
    assert schema.json_schema["title"] == "Review"
    parsed = _ok('{"label": "pos", "stars": 4}').parse(Review)
    assert isinstance(parsed.parsed, Review)
    assert parsed.parsed.stars == 4
    assert parsed.to_dict()["parsed"] == {"label": "pos", "stars": 4}
    bad = _ok('{"label": "pos", "stars": "many"}').parse(Review)
    assert bad.parse_error is not None
    assert bad.parse_error.startswith("the reply does not fit the schema: stars:")


@pytest.mark.parametrize(
    ("schema", "message"),
    [
        ("not a schema", "schema: must be a JSON Schema (a dict) or a pydantic model class, not str"),
        ({"type": "array"}, "schema: must describe an object"),
        ({"type": "object", "properties": {"a": {"type": "text"}}}, "schema.properties.a: has type 'text'"),
        ({"type": "object", "required": "a"}, "schema: 'required' must be a list"),
    ],
)
def test_a_bad_schema_is_one_line_naming_it_before_anything_is_sent(
    schema: Any, message: str, emulator: Emulator, tmp_path: Path
) -> None:
    with pytest.raises(sf.InputValidationError) as caught:
        requests.from_rows(_rows(2), prompt="{text}", model=MODEL, schema=schema)
    assert str(caught.value.problems[0]).startswith(message)
    client = client_for("sync", emulator)
    with pytest.raises(sf.InputValidationError) as caught:
        client.jobs.submit([{"custom_id": "a", "body": {"messages": []}}], job_dir=tmp_path / "j", schema=schema)
    assert str(caught.value.problems[0]).startswith(message)
    assert emulator.batches() == []
    assert not emulator.requests


def test_resubmit_invalid_needs_a_schema(emulator: Emulator, tmp_path: Path) -> None:
    client = client_for("sync", emulator)
    with pytest.raises(sf.InputValidationError, match="resubmit_invalid: needs a schema"):
        client.jobs.submit(requests.from_rows(_rows(2), prompt="{text}", model=MODEL), job_dir=tmp_path / "j",
                           resubmit_invalid=True)  # fmt: skip
    assert not emulator.requests


# --- the requests ------------------------------------------------------------------------------------------------


def test_from_rows_with_a_schema_asks_for_json_mode_and_states_the_schema() -> None:
    lines = list(requests.from_rows(_rows(2), prompt="Rate: {text}", model=MODEL, system="Be brief.", schema=SCHEMA))
    body = lines[0]["body"]
    assert body["response_format"] == JSON_MODE == {"type": "json_object"}  # SiliconFlow documents JSON mode only
    system = body["messages"][0]
    assert system["role"] == "system"
    assert system["content"].startswith("Be brief.\n\nAnswer with one JSON object")
    assert json.dumps(SCHEMA, separators=(",", ":")) in system["content"]
    assert body["messages"][1] == {"role": "user", "content": "Rate: review number 0"}
    with pytest.raises(TypeError, match="response_format cannot be a parameter with a schema"):
        requests.from_rows(_rows(1), prompt="{text}", model=MODEL, schema=SCHEMA, response_format={"type": "text"})


def test_the_emulator_answers_json_that_fits_the_schema_it_is_given(emulator: Emulator, tmp_path: Path) -> None:
    openai_form = {"type": "json_schema", "json_schema": {"name": "Review", "schema": SCHEMA, "strict": True}}
    source = [
        {"custom_id": "a", "body": {"model": MODEL, "messages": [{"role": "user", "content": "hi"}],
                                    "response_format": openai_form}},
        {"custom_id": "b", "body": {"model": MODEL, "messages": [{"role": "user", "content": "hi"}],
                                    "response_format": {"type": "json_object"}}},
    ]  # fmt: skip
    client = client_for("sync", emulator)
    assert isinstance(client, sf.SiliconFlow)
    job = client.jobs.run(source, job_dir=tmp_path / "job", poll_interval=5)
    first, second = job.results()
    assert first.parsed is None  # the job has no schema: nothing parsed
    assert validate(json.loads(first.content or ""), SCHEMA) is None
    assert isinstance(json.loads(second.content or ""), dict)


# --- jobs --------------------------------------------------------------------------------------------------------


def test_a_job_with_a_schema_gives_parsed_results_and_counts_the_invalid(
    mode: str, emulator: Emulator, tmp_path: Path
) -> None:
    emulator._engine.line_failures.update({"broken_json": 0.15, "truncated": 0.15})
    client = client_for(mode, emulator)
    rows = requests.from_rows(_rows(60), prompt="Rate: {text}", model=MODEL, id_column="id", schema=SCHEMA)
    job = run(client.jobs.run(rows, job_dir=tmp_path / "job", poll_interval=5))
    results = run(job.results())
    assert [r.custom_id for r in results] == [f"doc-{i}" for i in range(60)]
    invalid = [r for r in results if r.parse_error is not None]
    valid = [r for r in results if r.parse_error is None]
    assert 5 < len(invalid) < 35
    assert all(r.ok for r in results)  # the vendor answered every line: only the replies are at fault
    assert all(validate(r.parsed, SCHEMA) is None for r in valid)
    assert {r.finish_reason for r in invalid} == {"stop", "length"}
    assert {r.parse_error.split(" (")[0] for r in invalid if r.finish_reason == "stop"} == {
        "the reply is not valid JSON"
    }
    assert {r.attempts for r in results} == {1}  # without resubmit_invalid, nothing is sent again
    status = run(job.status())
    assert (status.succeeded, status.invalid, status.failed) == (len(valid), len(invalid), 0)
    assert status.resubmitted_invalid == 0
    assert status.to_dict()["requests"]["invalid"] == len(invalid)
    assert f"{len(invalid)} invalid (resubmitted 0)" in str(status)
    assert job.options["schema"] == Schema.of(SCHEMA)
    job.close()
    reopened = run(client.jobs.open(tmp_path / "job"))  # the schema is the ledger's: results parsed again
    assert [r.parsed for r in run(reopened.results())] == [r.parsed for r in results]
    reopened.close()


def test_resubmit_invalid_sends_the_invalid_lines_again_within_max_attempts(
    mode: str, emulator: Emulator, tmp_path: Path
) -> None:
    emulator._engine.line_failures.update({"broken_json": 0.2, "truncated": 0.2})
    client = client_for(mode, emulator)
    rows = requests.from_rows(_rows(80), prompt="Rate: {text}", model=MODEL, schema=SCHEMA)
    # One shard at a time: the emulator's faults follow from each batch's id, and so from the order of creates.
    job = run(client.jobs.run(rows, job_dir=tmp_path / "job", poll_interval=5, resubmit_invalid=True,
                              max_attempts=3, max_shard_lines=30, max_concurrency=1))  # fmt: skip
    results = run(job.results())
    status = run(job.status())
    still = [r for r in results if r.parse_error is not None]
    assert all(r.attempts == 3 for r in still)  # out of attempts, and only then
    assert status.invalid == len(still) < 8  # 0.4 ** 3 of 80, about 5
    assert status.succeeded == 80 - len(still)
    # every send after the first was for an invalid reply (nothing else failed)
    assert status.resubmitted_invalid == sum(r.attempts - 1 for r in results) > 30
    assert status.resubmitted == sum(r.attempts > 1 for r in results)
    assert set(batches_per_shard_attempt(emulator, job.id).values()) == {1}


def test_a_pydantic_model_on_the_job_gives_its_instances(mode: str, emulator: Emulator, tmp_path: Path) -> None:
    pydantic = pytest.importorskip("pydantic")

    class Answer(pydantic.BaseModel):  # type: ignore[name-defined,misc]
        label: str
        stars: int

    source = [
        {"custom_id": f"r{i}", "body": {"model": MODEL, "messages": [{"role": "user", "content": f"q{i}"}]}}
        for i in range(3)
    ]
    client = client_for(mode, emulator)
    rows = requests.from_rows([{"q": "a"}, {"q": "b"}], prompt="{q}", model=MODEL)
    job = run(client.jobs.run(rows, job_dir=tmp_path / "job", poll_interval=5, schema=Answer))  # rows take it
    assert [type(r.parsed) for r in run(job.results())] == [Answer, Answer]
    plain = run(client.jobs.run(source, job_dir=tmp_path / "plain", poll_interval=5, schema=Answer))
    # a JSONL input is sent as it is: its plain-text replies are invalid, each saying why
    assert {str(r.parse_error).split(" (")[0] for r in run(plain.results())} == {"the reply is not valid JSON"}
    assert run(plain.status()).invalid == 3


def test_rows_and_option_naming_two_schemas_are_refused(emulator: Emulator, tmp_path: Path) -> None:
    rows = requests.from_rows(_rows(2), prompt="{text}", model=MODEL, schema=SCHEMA)
    client = client_for("sync", emulator)
    with pytest.raises(sf.InputValidationError, match="schema: differs from the schema the rows were built with"):
        client.jobs.submit(rows, job_dir=tmp_path / "j", schema={"type": "object"})
    assert not emulator.requests


def test_a_recovered_job_needs_the_schema_its_invalid_lines_were_resubmitted_under(
    mode: str, emulator: Emulator, clock: VirtualClock, tmp_path: Path
) -> None:
    emulator._engine.line_failures.update({"broken_json": 0.3})
    client = client_for(mode, emulator)
    rows = requests.from_rows(_rows(50), prompt="Rate: {text}", model=MODEL, schema=SCHEMA)
    job_dir = tmp_path / "job"
    job = run(client.jobs.submit(rows, job_dir=job_dir, max_shard_lines=20, resubmit_invalid=True))
    with pytest.raises(sf.WaitTimeoutError):
        run(job.wait(poll_interval=5, timeout=70))
    assert run(job.status()).resubmitted_invalid > 0
    job.close()
    for name in ("ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"):
        (job_dir / name).unlink(missing_ok=True)
    plain = requests.from_rows(_rows(50), prompt="Rate: {text}", model=MODEL)
    fingerprint = Schema.of(SCHEMA).fingerprint
    with pytest.raises(sf.JobInputMismatchError, match=f"under schema {fingerprint}: give the same schema= and"):
        run(client.jobs.recover(rows, job_id=job.id, job_dir=job_dir))  # the schema, but not resubmit_invalid
    for name in ("ledger.sqlite", "ledger.sqlite-wal", "ledger.sqlite-shm"):
        (job_dir / name).unlink(missing_ok=True)
    recovered = run(client.jobs.recover(plain, job_id=job.id, job_dir=job_dir, schema=SCHEMA, resubmit_invalid=True))
    status = run(recovered.wait(poll_interval=5))
    assert status.done
    results = run(recovered.results())
    assert status.succeeded + status.invalid == 50
    assert sum(r.parse_error is None for r in results) == status.succeeded
    assert set(batches_per_shard_attempt(emulator, job.id).values()) == {1}
    recovered.close()


# --- tables ------------------------------------------------------------------------------------------------------


def test_the_table_has_the_parsed_fields_after_the_results_then_parse_error(emulator: Emulator, tmp_path: Path) -> None:
    pytest.importorskip("pyarrow")
    import pyarrow as pa
    import pyarrow.parquet as pq

    emulator._engine.line_failures.update({"truncated": 0.3})
    schema = {**SCHEMA, "properties": {**SCHEMA["properties"], "text": {"type": "string"}}}
    rows = requests.from_rows(_rows(20), prompt="Rate: {text}", model=MODEL, id_column="id", schema=schema)
    client = client_for("sync", emulator)
    assert isinstance(client, sf.SiliconFlow)
    job = client.jobs.run(rows, job_dir=tmp_path / "job", poll_interval=5)
    out = tmp_path / "out.parquet"
    assert job.write_table(out, rows=rows) == 20
    table = pq.read_table(out)
    names = table.column_names
    assert names[:2] == ["id", "text"]
    assert names[names.index("attempts") + 1 :] == [
        "label", "score", "stars", "tags", "meta", "parsed_text", "parse_error"
    ]  # fmt: skip
    assert table.schema.field("stars").type == pa.int64()
    assert table.schema.field("label").type == pa.string()  # an enum of strings is a text column, not JSON
    assert table.schema.field("score").type == pa.float64()
    assert table.schema.field("tags").type == pa.string()  # not one simple type: its JSON text
    data = table.to_pylist()
    cut = [row for row in data if row["finish_reason"] == "length"]
    assert cut
    assert all(row["parse_error"].startswith("the reply was cut") and row["label"] is None for row in cut)
    whole = [row for row in data if row["parse_error"] is None]
    assert whole
    assert all(1 <= row["stars"] <= 5 and isinstance(json.loads(row["tags"]), list) for row in whole)
    assert {row["label"] for row in whole} <= {"pos", "neg", "neutral"}
    assert job.to_arrow().column_names[-1] == "parse_error"
