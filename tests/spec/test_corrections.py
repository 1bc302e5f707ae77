"""Each correction in spec/corrections.yaml is needed: without it the spec or the client shows a defect.

Every proof below runs twice: on the spec built without that one correction (the defect must show) and on the
spec built with all of them (it must not). The other corrections stay applied, leniently, so the proof
isolates the one left out.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from helpers import BATCH, GET_PAGE_BODY, media_schema, schema_errors
from regenerate import CORRECTIONS, RUNTIME, PipelineError, build_spec, dump_spec, generate_client
from spec_corrections import load_corrections

Spec = dict[str, Any]


def _batch(**changes: Any) -> dict[str, Any]:
    return {**GET_PAGE_BODY, **changes}


def _batch_errors(spec: Spec, body: dict[str, Any]) -> list[str]:
    return schema_errors(spec, {"$ref": BATCH}, body)


def _create_body_errors(spec: Spec, **body: Any) -> list[str]:
    base = {"input_file_id": "file-1", "endpoint": "/v1/chat/completions", "completion_window": "24h"}
    return schema_errors(spec, media_schema(spec, "/batches", "post", "request"), {**base, **body})


def _spec_without(correction: str) -> Spec:
    return build_spec(skip=[correction], strict=False, check=False)


def _generate_and_run(spec: Spec, tmp_path: Path, snippet: str) -> subprocess.CompletedProcess[str]:
    """Generate a client from ``spec`` into ``tmp_path`` and run ``snippet`` against it in a fresh process."""
    (tmp_path / "openapi.yaml").write_text(dump_spec(spec), encoding="utf-8")
    generate_client(tmp_path / "openapi.yaml", tmp_path / "siliconflow_batch_generated")
    for runtime in RUNTIME.glob("*.py"):  # the models' helpers, which scripts/regenerate copies in beside them
        shutil.copyfile(runtime, tmp_path / "siliconflow_batch_generated" / runtime.name)
    return subprocess.run(
        [sys.executable, "-c", snippet], cwd=tmp_path, capture_output=True, text=True, check=False, timeout=60
    )


# Each proof returns a description of the defect it finds, or None when the spec is right.


def unique_operation_ids(spec: Spec) -> str | None:
    ids = [op["operationId"] for item in spec["paths"].values() for op in item.values()]
    duplicates = sorted({i for i in ids if ids.count(i) > 1})
    return f"duplicate operationIds {duplicates}" if duplicates else None


def create_upload_operation_ids(spec: Spec) -> str | None:
    create, upload = spec["paths"]["/batches"]["post"], spec["paths"]["/files"]["post"]
    if (create["operationId"], upload["operationId"]) != ("createBatch", "uploadFile"):
        return f"create is {create['operationId']!r} and upload {upload['operationId']!r}"
    return None


def create_summary(spec: Spec) -> str | None:
    summary = spec["paths"]["/batches"]["post"]["summary"]
    return f"create's summary is {summary!r}" if "upload" in summary.lower() and "batch" not in summary else None


def list_files_operation_id(spec: Spec) -> str | None:
    name = spec["paths"]["/files"]["get"]["operationId"]
    return None if name == "listFiles" else f"GET /files is {name!r}: the generated module would be renamed"


def request_bodies_required(spec: Spec) -> str | None:
    optional = [
        f"{method.upper()} {path}"
        for path, method in (("/batches", "post"), ("/files", "post"))
        if spec["paths"][path][method]["requestBody"].get("required") is not True
    ]
    return f"optional request bodies: {optional}" if optional else None


def file_envelope_required(spec: Spec) -> str | None:
    upload, listing = media_schema(spec, "/files", "post"), media_schema(spec, "/files", "get")
    if not schema_errors(spec, upload, {}):
        return "an empty object passes as an upload's envelope"
    if not schema_errors(spec, upload, {"code": 20000, "message": "Ok", "status": True, "data": {}}):
        return "an uploaded file without an id passes"
    if not schema_errors(spec, listing, {"code": 20000, "message": "Ok", "status": True, "data": {"data": [{}]}}):
        return "a listed file without an id passes"
    errors = schema_errors(spec, listing, {"code": 20000, "message": "Ok", "status": True})
    return f"a list envelope without data is rejected: {errors}" if errors else None


def shared_batch_schema(spec: Spec) -> str | None:
    schemas = [
        media_schema(spec, "/batches/{batch_id}", "get"),
        media_schema(spec, "/batches", "post"),
        media_schema(spec, "/batches/{batch_id}/cancel", "post"),
        media_schema(spec, "/batches", "get")["properties"]["data"]["items"],
    ]
    inline = [s for s in schemas if s != {"$ref": BATCH}]
    return f"{len(inline)} of 4 operations inline their own Batch" if inline else None


def batch_required_fields(spec: Spec) -> str | None:
    return None if _batch_errors(spec, {}) else "an empty object passes as a Batch"


def nullable_timestamps(spec: Spec) -> str | None:
    errors = _batch_errors(spec, _batch(expires_at=None))
    return f"the get page's own example is rejected: {errors}" if errors else None


def nullable_file_ids(spec: Spec) -> str | None:
    errors = _batch_errors(spec, _batch(output_file_id=None, error_file_id=None, expires_at=1))
    return f"null file ids rejected: {errors}" if errors else None


def status_enum(spec: Spec) -> str | None:
    if not _batch_errors(spec, _batch(status="bogus")):
        return "status accepts any string: nothing says which states are terminal"
    for status in ("in_queue", "validating", "in_progress", "finalizing", "completed", "failed", "expired"):
        if _batch_errors(spec, _batch(status=status)):
            return f"status {status} rejected"
    return None


def errors_shapes(spec: Spec) -> str | None:
    openai_form = {"object": "list", "data": [{"code": "x", "message": "m", "param": None, "line": 3}]}
    for value in (None, [], ["bad line"], openai_form):
        if _batch_errors(spec, _batch(errors=value)):
            return f"errors={value!r} rejected"
    return None


def request_counts_shape(spec: Spec) -> str | None:
    for value in (None, {}, {"total": 2, "completed": 1, "failed": 0}):
        if _batch_errors(spec, _batch(request_counts=value)):
            return f"request_counts={value!r} rejected"
    if not _batch_errors(spec, _batch(request_counts={"total": "two"})):
        return "request_counts.total is untyped"
    return None


def metadata_string_map(spec: Spec) -> str | None:
    if _batch_errors(spec, _batch(metadata=None)):
        return "metadata null rejected"
    if not _batch_errors(spec, _batch(metadata={"job": 1})):
        return "metadata accepts non-string values"
    if "properties" in spec["components"]["schemas"]["Batch"]["properties"]["metadata"]:
        return "metadata has fixed keys"
    return None


def batch_file_name(spec: Spec) -> str | None:
    properties = spec["components"]["schemas"]["Batch"]["properties"]
    return None if "file_name" in properties else "Batch has no file_name: list-batches' field is untyped"


def list_cursor_ids_nullable(spec: Spec) -> str | None:
    empty_page: dict[str, Any] = {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
    errors = schema_errors(spec, media_schema(spec, "/batches", "get"), empty_page)
    return f"an empty page is rejected: {errors}" if errors else None


def success_envelope_status_true(spec: Spec) -> str | None:
    failed = {"code": 20015, "message": "purpose is invalid", "status": False}
    for method in ("get", "post"):
        if not schema_errors(spec, media_schema(spec, "/files", method), failed):
            return f"{method} /files: a 200 envelope with status false passes as a success"
    return None


def completion_window_bounds(spec: Spec) -> str | None:
    for window in ("1h", "23h", "337h", "400h", "24", "24hours"):
        if not _create_body_errors(spec, completion_window=window):
            return f"completion_window {window!r} accepted"
    for window in ("24h", "100h", "336h"):
        if _create_body_errors(spec, completion_window=window):
            return f"completion_window {window!r} rejected"
    return None


def create_endpoint_enum(spec: Spec) -> str | None:
    return None if _create_body_errors(spec, endpoint="/v1/embeddings") else "any endpoint accepted"


def create_metadata_limits(spec: Spec) -> str | None:
    if not _create_body_errors(spec, metadata={f"k{i}": "v" for i in range(17)}):
        return "17 metadata pairs accepted"
    if not _create_body_errors(spec, metadata={"k": "v" * 513}):
        return "a 513-character metadata value accepted"
    return None


def _validation_error(spec: Spec) -> str | None:
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    try:
        validate(spec)
    except OpenAPIValidationError as exc:
        return str(exc).splitlines()[0]
    return None


def bad_request_code_default(spec: Spec) -> str | None:
    error = _validation_error(spec)
    return error if error and "False is not of type 'integer'" in error else None


def string_error_defaults(spec: Spec) -> str | None:
    error = _validation_error(spec)
    return error if error and "False is not of type 'string'" in error else None


def plain_text_errors(spec: Spec) -> str | None:
    for name in ("NotFound", "Timeout"):
        content = spec["components"]["responses"][name]["content"]
        if list(content) != ["text/plain"]:
            return f"{name} declared as {list(content)}"
    return None


def rate_limit_response(spec: Spec) -> str | None:
    missing = [
        f"{m.upper()} {p}"
        for p, item in spec["paths"].items()
        for m, op in item.items()
        if "429" not in op["responses"]
    ]
    return f"no 429 on {missing}" if missing else None


PROOFS: dict[str, Callable[[Spec], str | None]] = {
    "unique-operation-ids": unique_operation_ids,
    "create-upload-operation-ids": create_upload_operation_ids,
    "create-summary": create_summary,
    "list-files-operation-id": list_files_operation_id,
    "request-bodies-required": request_bodies_required,
    "shared-batch-schema": shared_batch_schema,
    "batch-required-fields": batch_required_fields,
    "nullable-timestamps": nullable_timestamps,
    "nullable-file-ids": nullable_file_ids,
    "status-enum": status_enum,
    "errors-shapes": errors_shapes,
    "request-counts-shape": request_counts_shape,
    "metadata-string-map": metadata_string_map,
    "batch-file-name": batch_file_name,
    "list-cursor-ids-nullable": list_cursor_ids_nullable,
    "completion-window-bounds": completion_window_bounds,
    "create-endpoint-enum": create_endpoint_enum,
    "create-metadata-limits": create_metadata_limits,
    "success-envelope-status-true": success_envelope_status_true,
    "file-envelope-required": file_envelope_required,
    "bad-request-code-default": bad_request_code_default,
    "string-error-defaults": string_error_defaults,
    "plain-text-errors": plain_text_errors,
    "rate-limit-response": rate_limit_response,
}


@pytest.fixture(scope="module")
def corrected() -> Spec:
    return build_spec()


def test_every_correction_has_a_proof() -> None:
    assert [c.id for c in load_corrections(CORRECTIONS)] == list(PROOFS)


@pytest.mark.parametrize("correction", list(PROOFS))
def test_correction_fixes_a_defect(correction: str, corrected: Spec) -> None:
    prove = PROOFS[correction]
    assert prove(_spec_without(correction)) is not None, f"{correction}: no defect without it"
    assert prove(corrected) is None


@pytest.mark.slow
def test_without_unique_operation_ids_validation_fails_and_the_generator_drops_an_operation(tmp_path: Path) -> None:
    spec = _spec_without("unique-operation-ids")
    with pytest.raises(PipelineError, match=r"Operation ID 'getBatchEvaluationJob'.* is not unique"):
        build_spec(skip=["unique-operation-ids"], strict=False)
    (tmp_path / "openapi.yaml").write_text(dump_spec(spec), encoding="utf-8")
    generate_client(tmp_path / "openapi.yaml", tmp_path / "pkg")
    modules = {p.stem for p in (tmp_path / "pkg" / "api" / "default").glob("*.py")} - {"__init__"}
    assert "list_batches" not in modules
    assert len(modules) == 6  # seven operations, one silently lost


@pytest.mark.slow
def test_without_bad_request_code_default_the_generator_drops_the_400_responses(tmp_path: Path) -> None:
    spec = _spec_without("bad-request-code-default")
    (tmp_path / "openapi.yaml").write_text(dump_spec(spec), encoding="utf-8")
    with pytest.raises(PipelineError, match="BadRquestData") as caught:
        generate_client(tmp_path / "openapi.yaml", tmp_path / "pkg")
    assert "response will be omitted" in str(caught.value)


PLAIN_404 = """
import json, httpx
from siliconflow_batch_generated import AuthenticatedClient
from siliconflow_batch_generated.api.default import get_batch
transport = httpx.MockTransport(lambda request: httpx.Response(404, text="404 page not found"))
client = AuthenticatedClient("https://api.test/v1", token="k", httpx_args={"transport": transport})
try:
    print(repr(get_batch.sync("b1", client=client)))
except json.JSONDecodeError:
    print("JSONDecodeError")
"""


@pytest.mark.slow
@pytest.mark.parametrize(("skip", "expected"), [(True, "JSONDecodeError"), (False, "'404 page not found'")])
def test_plain_text_404_through_the_generated_client(tmp_path: Path, skip: bool, expected: str) -> None:
    spec = _spec_without("plain-text-errors") if skip else build_spec()
    result = _generate_and_run(spec, tmp_path, PLAIN_404)
    assert result.stdout.strip() == expected, result.stderr


@pytest.mark.slow
def test_stale_correction_fails_the_regeneration_by_name(tmp_path: Path) -> None:
    from helpers import copy_tree, run_regenerate

    tree = copy_tree(tmp_path)
    page = tree / "spec" / "fragments" / "siliconflow-list-batches.openapi.md"
    fixed = page.read_text(encoding="utf-8").replace("operationId: getBatchEvaluationJob", "operationId: listBatches")
    page.write_text(fixed, encoding="utf-8")
    result = run_regenerate(tree, "--check")
    assert result.returncode == 1
    assert "stale correction 'unique-operation-ids'" in result.stderr
    assert "already holds what the correction sets" in result.stderr


def _fix_the_list_page(tree: Path) -> None:
    page = tree / "spec" / "fragments" / "siliconflow-list-batches.openapi.md"
    fixed = page.read_text(encoding="utf-8").replace("operationId: getBatchEvaluationJob", "operationId: listBatches")
    page.write_text(fixed, encoding="utf-8")


@pytest.mark.slow
def test_a_stale_action_is_named_and_quoted_and_the_others_kept(tmp_path: Path) -> None:
    from helpers import copy_tree, run_regenerate

    tree = copy_tree(tmp_path)
    _fix_the_list_page(tree)
    result = run_regenerate(tree, "--check")
    assert result.returncode == 1
    assert "1 of its 2 actions no longer apply; the other 1 are still needed" in result.stderr
    assert "action 2: $.paths['/batches'].get already holds what the correction sets" in result.stderr
    assert "Delete only this action:" in result.stderr
    assert "operationId: listBatches" in result.stderr  # the action's own text, to find it in the file
    assert "operationId: getBatch\n" not in result.stderr  # action 1 is still needed: not offered for deletion


def _regenerated_copy(tmp_path: Path, change: Callable[[Path], None]) -> Path:
    """A copy of the tree with ``change`` made to spec/, regenerated; the overlay comes along."""
    import shutil

    from helpers import ROOT, copy_tree, run_regenerate

    tree = copy_tree(tmp_path)
    shutil.copytree(ROOT / "overlay", tree / "overlay", ignore=shutil.ignore_patterns("__pycache__"))
    change(tree)
    regenerated = run_regenerate(tree)
    assert regenerated.returncode == 0, regenerated.stderr
    return tree


def _mypy_operations(tree: Path) -> str:
    # --no-site-packages: the installed (editable) package would supply the committed generated modules.
    command = ["mypy", "--strict", "--no-incremental", "--follow-imports=silent", "--no-site-packages"]
    checked = subprocess.run(
        [sys.executable, "-m", *command, "overlay/siliconflow_batch/_operations/batches.py"],
        cwd=tree,
        env={**os.environ, "MYPYPATH": "overlay:generated"},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert checked.returncode == 1, checked.stdout
    return checked.stdout


@pytest.mark.slow
def test_deleting_a_whole_correction_that_is_still_needed_fails_the_type_check(tmp_path: Path) -> None:
    # The vendor fixed one of the two pages; deleting the whole correction (not just the stale action) leaves the
    # get operation named getBatchEvaluationJob. The overlay's static imports make mypy fail before any test.
    import yaml

    def delete_the_correction(tree: Path) -> None:
        _fix_the_list_page(tree)
        corrections = tree / "spec" / "corrections.yaml"
        overlay = yaml.safe_load(corrections.read_text(encoding="utf-8"))
        overlay["actions"] = [a for a in overlay["actions"] if a["x-correction"] != "unique-operation-ids"]
        corrections.write_text(yaml.safe_dump(overlay, sort_keys=False, allow_unicode=True), encoding="utf-8")

    tree = _regenerated_copy(tmp_path, delete_the_correction)
    operations = tree / "generated" / "siliconflow_batch_generated" / "api" / "default"
    assert (operations / "get_batch_evaluation_job.py").exists()
    missing = 'module named "siliconflow_batch_generated.api.default.get_batch"'  # "Cannot find ... stub for ..."
    assert missing in _mypy_operations(tree)


@pytest.mark.slow
def test_renaming_a_parameter_in_the_spec_fails_the_type_check(tmp_path: Path) -> None:
    def rename_limit(tree: Path) -> None:
        page = tree / "spec" / "fragments" / "siliconflow-list-batches.openapi.md"
        text = page.read_text(encoding="utf-8")
        assert text.count("name: limit") == 1
        page.write_text(text.replace("name: limit", "name: page_size"), encoding="utf-8")

    output = _mypy_operations(_regenerated_copy(tmp_path, rename_limit))
    assert 'Unexpected keyword argument "limit" for "request_kwargs"' in output
