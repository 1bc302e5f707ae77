"""Applying the corrections (an OpenAPI Overlay document): update, remove, copy, grouping, and the stale rule."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from spec_corrections import (
    Correction,
    CorrectionError,
    StaleCorrectionError,
    apply_corrections,
    load_corrections,
)


def _doc() -> dict[str, Any]:
    return {"a": {"b": {"x": 1, "tags": ["t1"]}, "c": {"x": 2}}, "s": {"keep": True}}


def _one(name: str, *actions: dict[str, Any]) -> list[Correction]:
    return [Correction(name, "because", tuple({"x-correction": name, "description": "d", **a} for a in actions))]


def test_update_merges_recursively_and_appends_arrays() -> None:
    out = apply_corrections(_doc(), _one("c", {"target": "$.a.b", "update": {"x": 5, "tags": ["t2"], "new": 1}}))
    assert out["a"]["b"] == {"x": 5, "tags": ["t1", "t2"], "new": 1}


def test_update_applies_to_every_match() -> None:
    out = apply_corrections(_doc(), _one("c", {"target": "$.a['b','c']", "update": {"y": 0}}))
    assert out["a"]["b"]["y"] == 0
    assert out["a"]["c"]["y"] == 0


def test_input_document_is_not_mutated() -> None:
    doc = _doc()
    apply_corrections(doc, _one("c", {"target": "$.a.b", "remove": True}))
    assert doc == _doc()


def test_remove_deletes_the_node_from_its_parent() -> None:
    out = apply_corrections(_doc(), _one("c", {"target": "$.a['b','c'].x", "remove": True}))
    assert out["a"] == {"b": {"tags": ["t1"]}, "c": {}}


def test_copy_merges_the_source_node_into_the_target() -> None:
    out = apply_corrections(_doc(), _one("c", {"target": "$.s", "copy": "$.a.b"}))
    assert out["s"] == {"keep": True, "x": 1, "tags": ["t1"]}


def test_target_matching_nothing_is_stale() -> None:
    message = r"stale correction 'gone': action 1: target \$\.nope matches nothing"
    with pytest.raises(StaleCorrectionError, match=message):
        apply_corrections(_doc(), _one("gone", {"target": "$.nope", "update": {"x": 1}}))


def test_update_that_changes_nothing_is_stale() -> None:
    with pytest.raises(StaleCorrectionError, match=r"'fixed'.*already holds what the correction sets"):
        apply_corrections(_doc(), _one("fixed", {"target": "$.a.c", "update": {"x": 2}}))


def test_correction_whose_actions_cancel_out_is_stale() -> None:
    actions = ({"target": "$.a.c.x", "remove": True}, {"target": "$.a.c", "update": {"x": 2}})
    with pytest.raises(StaleCorrectionError, match="'undo': its actions together change nothing"):
        apply_corrections(_doc(), _one("undo", *actions))


def test_lenient_mode_passes_over_missing_targets() -> None:
    assert apply_corrections(_doc(), _one("gone", {"target": "$.nope", "remove": True}), strict=False) == _doc()


def test_skip_leaves_out_the_named_correction() -> None:
    corrections = _one("a", {"target": "$.s", "update": {"k": 1}}) + _one("b", {"target": "$.s", "update": {"j": 1}})
    assert apply_corrections(_doc(), corrections, skip=["a"])["s"] == {"keep": True, "j": 1}


def _write(tmp_path: Path, actions: list[dict[str, Any]]) -> Path:
    path = tmp_path / "c.yaml"
    path.write_text(yaml.safe_dump({"overlay": "1.1.0", "info": {"title": "t", "version": "1"}, "actions": actions}))
    return path


def test_consecutive_actions_group_into_one_correction(tmp_path: Path) -> None:
    base = {"description": "why", "target": "$.a", "update": {}}
    path = _write(tmp_path, [{"x-correction": name, **base} for name in ("p", "p", "q")])
    corrections = load_corrections(path)
    assert [(c.id, len(c.actions)) for c in corrections] == [("p", 2), ("q", 1)]
    assert corrections[0].reason == "why"


@pytest.mark.parametrize(
    ("action", "message"),
    [
        ({"description": "d", "target": "$.a", "update": {}}, "'x-correction' must be a non-empty string"),
        ({"x-correction": "p", "target": "$.a", "update": {}}, "'description' must be a non-empty string"),
        ({"x-correction": "p", "description": "d", "target": "$.a"}, "needs exactly one of update, remove, copy"),
        ({"x-correction": "p", "description": "d", "target": "$.a", "remove": True, "update": {}}, "exactly one"),
        ({"x-correction": "p", "description": "d", "target": "$.a", "remove": False}, "'remove' must be true"),
        ({"x-correction": "p", "description": "d", "target": "$[", "update": {}}, "bad JSONPath"),
    ],
)
def test_malformed_actions_are_refused(tmp_path: Path, action: dict[str, Any], message: str) -> None:
    with pytest.raises(CorrectionError, match=message):
        load_corrections(_write(tmp_path, [action]))


def test_split_correction_is_refused(tmp_path: Path) -> None:
    base = {"description": "d", "target": "$.a", "update": {}}
    path = _write(tmp_path, [{"x-correction": name, **base} for name in ("p", "q", "p")])
    with pytest.raises(CorrectionError, match="the actions of 'p' must be consecutive"):
        load_corrections(path)


def test_non_overlay_document_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("openapi: 3.0.0\n")
    with pytest.raises(CorrectionError, match="not an Overlay"):
        load_corrections(path)


def _api(paths: dict[str, Any]) -> dict[str, Any]:
    return {"servers": [{"url": "https://api.example/v1"}], "paths": paths}


_RENAME_GET = _one("ids", {"target": "$.paths['/batches/{batch_id}'].get", "update": {"operationId": "getBatch"}})


def test_a_target_path_that_now_repeats_the_base_path_is_named_and_no_deletion_advised() -> None:
    doc = _api({"/v1/batches/{batch_id}": {"get": {"operationId": "getBatchEvaluationJob"}}})
    with pytest.raises(StaleCorrectionError) as caught:
        apply_corrections(doc, _RENAME_GET)
    message = str(caught.value)
    assert "`/v1/batches/{batch_id}` repeats the server URL's `/v1`" in message
    assert "delete nothing" in message
    assert "Delete" not in message


def test_a_target_path_that_moved_says_what_changed_not_delete() -> None:
    doc = _api({"/batch/{batch_id}": {"get": {"operationId": "getBatchEvaluationJob"}}})
    with pytest.raises(StaleCorrectionError) as caught:
        apply_corrections(doc, _RENAME_GET)
    message = str(caught.value)
    assert "the path /batches/{batch_id} is in no fragment now (the fragments have /batch/{batch_id})" in message
    assert "Delete" not in message


def test_a_target_operation_that_moved_says_what_changed_not_delete() -> None:
    # Two actions, one still applying: the other's operation is gone, so neither is offered for deletion.
    corrections = _one(
        "ids",
        {"target": "$.paths['/batches'].get", "update": {"operationId": "listBatches"}},
        {"target": "$.paths['/batches'].post", "update": {"operationId": "createBatch"}},
    )
    doc = _api({"/batches": {"get": {"operationId": "x"}, "put": {"operationId": "UploadFiles"}}})
    with pytest.raises(StaleCorrectionError) as caught:
        apply_corrections(doc, corrections)
    message = str(caught.value)
    assert "action 2: target $.paths['/batches'].post matches nothing" in message
    assert "the pages no longer define POST /batches" in message
    assert "(/batches now has GET, PUT)" in message
    assert "Delete" not in message


def test_a_fixed_page_is_still_reported_as_a_deletion() -> None:
    doc = _api({"/batches/{batch_id}": {"get": {"operationId": "getBatch"}}})
    with pytest.raises(StaleCorrectionError, match=r"already holds what the correction sets.*Delete the whole"):
        apply_corrections(doc, _RENAME_GET)
