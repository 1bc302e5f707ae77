"""The generated models against every documented example, and the spec against its own examples."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from siliconflow_batch_generated.checks import FieldMismatch
from siliconflow_batch_generated.models import (
    Batch,
    BatchErrors,
    BatchList,
    BatchMetadata,
    BatchRequestCounts,
    BatchStatus,
    FileListEnvelope,
    UploadedFileEnvelope,
)
from siliconflow_batch_generated.models.user_info_response_200 import UserInfoResponse200

from helpers import FRAGMENTS, GET_PAGE_BODY, TOKEN360_BODY, schema_errors, synthesize_example
from regenerate import SPEC, build_spec
from spec_fragments import load_fragment

# Which generated model parses each operation's 200 body.
MODELS: dict[tuple[str, str], Any] = {
    ("/batches/{batch_id}", "get"): Batch,
    ("/batches", "post"): Batch,
    ("/batches/{batch_id}/cancel", "post"): Batch,
    ("/batches", "get"): BatchList,
    ("/files", "post"): UploadedFileEnvelope,
    ("/files", "get"): FileListEnvelope,
    ("/user/info", "get"): UserInfoResponse200,
}


def _documented_bodies() -> list[Any]:
    """Every 200 body a fragment documents: its explicit example, else the one built from property examples."""
    cases = []
    for path in sorted(FRAGMENTS.iterdir()):
        document = load_fragment(path)
        for route, item in document["paths"].items():
            for method, operation in item.items():
                media = operation["responses"]["200"]["content"].get("application/json")
                if media is None:
                    continue
                body = media.get("example", synthesize_example(media["schema"], document))
                cases.append(pytest.param(MODELS[route, method], body, id=f"{path.stem}:{method}"))
    return cases


ALL_NULL = {key: None for key in GET_PAGE_BODY if key.endswith("_at") and key != "created_at"}


@pytest.mark.parametrize(("model", "body"), _documented_bodies())
def test_documented_example_parses_and_round_trips(model: Any, body: Any) -> None:
    parsed = model.from_dict(copy.deepcopy(body))
    assert parsed.to_dict() == body


def test_every_fragment_documents_a_parsable_body() -> None:
    assert len(_documented_bodies()) == len(MODELS)


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(GET_PAGE_BODY, id="get-page"),
        pytest.param(TOKEN360_BODY, id="token360"),
        pytest.param({**GET_PAGE_BODY, "errors": None, "request_counts": None}, id="nulls"),
        pytest.param({**GET_PAGE_BODY, **ALL_NULL}, id="all-null-timestamps"),
        pytest.param({**GET_PAGE_BODY, "metadata": {"x" * 64: "y" * 512, "team": "evals", "": ""}}, id="metadata"),
        pytest.param({**GET_PAGE_BODY, "metadata": None}, id="metadata-null"),
    ],
)
def test_batch_bodies_parse_and_round_trip(body: dict[str, Any]) -> None:
    batch = Batch.from_dict(copy.deepcopy(body))
    assert batch.to_dict() == body


def test_parsed_fields_have_the_documented_types() -> None:
    empty = Batch.from_dict(copy.deepcopy(GET_PAGE_BODY))
    assert empty.status is BatchStatus.IN_QUEUE
    assert empty.errors == []
    assert isinstance(empty.request_counts, BatchRequestCounts)
    assert empty.request_counts.total is None  # absent: None, never a sentinel
    assert empty.in_progress_at is None

    full = Batch.from_dict(copy.deepcopy(TOKEN360_BODY))
    assert isinstance(full.request_counts, BatchRequestCounts)
    assert (full.request_counts.total, full.request_counts.completed, full.request_counts.failed) == (2, 2, 0)
    assert isinstance(full.metadata, BatchMetadata)
    assert full.metadata["job"] == "nightly"
    assert full.file_name is None


def test_openai_errors_object_parses_into_its_model() -> None:
    errors = {"object": "list", "data": [{"code": "invalid_json", "message": "bad", "param": None, "line": 7}]}
    batch = Batch.from_dict({**GET_PAGE_BODY, "errors": errors})
    assert isinstance(batch.errors, BatchErrors)
    assert batch.to_dict()["errors"] == errors


def test_unknown_status_and_unknown_fields_are_kept() -> None:
    batch = Batch.from_dict({**GET_PAGE_BODY, "status": "paused", "x_test_field_7f3a": 3})
    assert batch.status == "paused"
    assert isinstance(batch.status, BatchStatus)
    assert batch.status not in list(BatchStatus)  # kept raw, not mistaken for a known member
    assert batch.additional_properties == {"x_test_field_7f3a": 3}
    assert batch.to_dict() == {**GET_PAGE_BODY, "status": "paused", "x_test_field_7f3a": 3}


def test_known_status_is_still_the_enum_member() -> None:
    assert BatchStatus("completed") is BatchStatus.COMPLETED
    assert str(BatchStatus("paused")) == "paused"


def test_non_string_status_still_raises() -> None:
    with pytest.raises(ValueError, match="is not a valid BatchStatus"):
        BatchStatus(3)  # type: ignore[arg-type]


def _examples(spec: dict[str, Any]) -> list[Any]:
    found = []
    for route, item in spec["paths"].items():
        for method, operation in item.items():
            for status, response in operation["responses"].items():
                for media in response.get("content", {}).values():
                    if "example" in media:
                        found.append(pytest.param(media["schema"], media["example"], id=f"{method}:{route}:{status}"))
    return found


CORRECTED = build_spec()


@pytest.mark.parametrize(("schema", "example"), _examples(CORRECTED))
def test_examples_in_the_corrected_spec_satisfy_their_schemas(schema: dict[str, Any], example: Any) -> None:
    assert schema_errors(CORRECTED, schema, example) == []


def test_committed_spec_is_valid_and_current() -> None:
    from regenerate import dump_spec

    assert Path(SPEC).read_text(encoding="utf-8") == dump_spec(CORRECTED)


def test_an_absent_field_reads_none_and_a_null_one_comes_back_null() -> None:
    body = {k: v for k, v in GET_PAGE_BODY.items() if k != "output_file_id"}
    batch = Batch.from_dict({**body, "error_file_id": None})
    assert batch.output_file_id is None
    assert batch.error_file_id is None
    assert "output_file_id" not in batch.to_dict()
    assert batch.to_dict()["error_file_id"] is None


@pytest.mark.parametrize(
    ("model", "body", "path", "message"),
    [
        (Batch, {**GET_PAGE_BODY, "id": 5}, "id", "expected str, got int 5"),
        (Batch, {k: v for k, v in GET_PAGE_BODY.items() if k != "status"}, "status", "required field is missing"),
        (Batch, {**GET_PAGE_BODY, "status": None}, "status", "expected str, got NoneType None"),
        (
            FileListEnvelope,
            {"code": 20000, "message": "Ok", "status": True, "data": {"data": [{"id": "f1"}, {"id": 2}]}},
            "data.data[1].id",
            "expected str, got int 2",
        ),
        (UploadedFileEnvelope, {"code": 20000, "message": "Ok", "status": True, "data": []}, "data", "expected object"),
    ],
)
def test_from_dict_names_the_essential_field_that_does_not_fit(model: Any, body: Any, path: str, message: str) -> None:
    with pytest.raises(FieldMismatch) as caught:
        model.from_dict(body)
    assert caught.value.path == path
    assert message in caught.value.message


def test_a_field_that_is_not_essential_keeps_its_raw_value() -> None:
    batch = Batch.from_dict({**GET_PAGE_BODY, "created_at": "yesterday", "request_counts": {"total": "two"}})
    raw: Any = batch.created_at  # typed int, holding what the server sent
    assert raw == "yesterday"
    assert isinstance(batch.request_counts, BatchRequestCounts)  # the object stands; only its odd field is raw
    raw = batch.request_counts.total
    assert raw == "two"
    assert batch.to_dict()["request_counts"] == {"total": "two"}
