"""Loading and merging the vendor's fragments."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import FRAGMENTS, SEEDS
from spec_fragments import FragmentError, load_fragment, load_fragments, merge_fragments

MINIMAL = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n"


@pytest.mark.parametrize("name", ["siliconflow-get-batch.openapi.md", "siliconflow-list-batches.openapi.md"])
def test_published_pages_are_copied_verbatim(name: str) -> None:
    if not (SEEDS / name).is_file():
        pytest.skip("shared/seeds is not beside this checkout")
    assert (FRAGMENTS / name).read_bytes() == (SEEDS / name).read_bytes()


def test_markdown_page_yields_its_embedded_yaml() -> None:
    document = load_fragment(FRAGMENTS / "siliconflow-get-batch.openapi.md")
    assert document["openapi"] == "3.0.0"
    assert list(document["paths"]) == ["/batches/{batch_id}"]
    assert document["paths"]["/batches/{batch_id}"]["get"]["operationId"] == "getBatchEvaluationJob"


def test_every_transcribed_fragment_names_its_source() -> None:
    transcribed = sorted(FRAGMENTS.glob("*.yaml"))
    assert len(transcribed) == 5
    for path in transcribed:
        assert path.read_text(encoding="utf-8").startswith("# Transcribed by us"), path.name


def test_merge_unions_all_operations() -> None:
    merged = merge_fragments(load_fragments(FRAGMENTS))
    operations = {(path, method) for path, item in merged["paths"].items() for method in item}
    assert operations == {
        ("/batches", "get"),
        ("/batches", "post"),
        ("/batches/{batch_id}", "get"),
        ("/batches/{batch_id}/cancel", "post"),
        ("/files", "get"),
        ("/files", "post"),
        ("/files/{file_id}/content", "get"),
        ("/user/info", "get"),
    }


def test_same_operation_in_two_fragments_is_an_error(tmp_path: Path) -> None:
    op = "paths:\n  /x:\n    get: {operationId: a, responses: {'200': {description: ok}}}\n"
    (tmp_path / "a.yaml").write_text(MINIMAL.replace("paths: {}\n", op))
    (tmp_path / "b.yaml").write_text(MINIMAL.replace("paths: {}\n", op))
    with pytest.raises(FragmentError, match=r"b\.yaml: GET /x is already defined by a\.yaml"):
        merge_fragments(load_fragments(tmp_path))


def test_contradicting_components_name_both_fragments(tmp_path: Path) -> None:
    (tmp_path / "a.yaml").write_text(MINIMAL + "components: {schemas: {E: {type: string}}}\n")
    (tmp_path / "b.yaml").write_text(MINIMAL + "components: {schemas: {E: {type: integer}}}\n")
    message = r"b\.yaml: \$\.components\.schemas\.E\.type is 'integer' here but 'string'"
    with pytest.raises(FragmentError, match=message):
        merge_fragments(load_fragments(tmp_path))


def test_equal_components_merge_quietly(tmp_path: Path) -> None:
    for name in ("a.yaml", "b.yaml"):
        (tmp_path / name).write_text(MINIMAL + "components: {schemas: {E: {type: string}}}\n")
    assert merge_fragments(load_fragments(tmp_path))["components"] == {"schemas": {"E": {"type": "string"}}}


def test_page_without_yaml_block_is_refused(tmp_path: Path) -> None:
    (tmp_path / "page.md").write_text("# a page\n\nno OpenAPI here\n")
    with pytest.raises(FragmentError, match="expected one embedded yaml block, found 0"):
        load_fragment(tmp_path / "page.md")


def test_empty_folder_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FragmentError, match="no fragments"):
        load_fragments(tmp_path)


def test_transcribed_fragments_match_what_their_pages_show() -> None:
    # spec/sources.yaml records, for a page without YAML, its method, path, statuses and response fields.
    import yaml

    sources = yaml.safe_load((FRAGMENTS.parent / "sources.yaml").read_text(encoding="utf-8"))["fragments"]
    checked = {name: source["page"] for name, source in sources.items() if source.get("page")}
    assert "siliconflow-cancel-batch.openapi.yaml" in checked
    for name, page in checked.items():
        operation = load_fragment(FRAGMENTS / name)["paths"][page["path"]][page["method"]]
        assert set(page["statuses"]) <= set(operation["responses"]), name
        ok = operation["responses"]["200"]["content"]["application/json"]["schema"]
        assert list(ok["properties"]) == page["fields"], name
