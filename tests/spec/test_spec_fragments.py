"""Loading and merging the vendor's fragments."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import FRAGMENTS, SEEDS
from spec_fragments import FragmentError, load_fragment, load_fragments, merge_fragments

MINIMAL = "openapi: 3.0.0\ninfo: {title: t, version: '1'}\npaths: {}\n"


PUBLISHED = FRAGMENTS.parent / "published"


@pytest.mark.parametrize("name", ["siliconflow-get-batch.openapi.md", "siliconflow-list-batches.openapi.md"])
def test_published_pages_are_copied_verbatim(name: str) -> None:
    # The pages as handed to us are kept in the repository (spec/published/): a clone alone runs this test.
    assert (FRAGMENTS / name).read_bytes() == (PUBLISHED / name).read_bytes()


def test_the_kept_pages_are_those_shared_holds() -> None:
    """Beside shared/ (as on a developer's machine and in CI), the copies are still the pages it holds."""
    kept = sorted(p.name for p in PUBLISHED.iterdir() if p.name != "README.md")
    assert "siliconflow-get-batch.openapi.md" in kept
    if SEEDS.is_dir():  # a clone alone has only the kept copies: the check above is what it can make
        assert sorted(p.name.replace("README.md", "SEEDS-README.md") for p in SEEDS.iterdir()) == kept
        for name in kept:
            seed = SEEDS / ("README.md" if name == "SEEDS-README.md" else name)
            assert (PUBLISHED / name).read_bytes() == seed.read_bytes(), name


def test_markdown_page_yields_its_embedded_yaml() -> None:
    document = load_fragment(FRAGMENTS / "siliconflow-get-batch.openapi.md")
    assert document["openapi"] == "3.0.0"
    assert list(document["paths"]) == ["/batches/{batch_id}"]
    assert document["paths"]["/batches/{batch_id}"]["get"]["operationId"] == "getBatchEvaluationJob"


def _sources() -> dict[str, dict[str, object]]:
    import yaml

    listed: dict[str, dict[str, object]] = yaml.safe_load((FRAGMENTS.parent / "sources.yaml").read_text())["fragments"]
    return listed


def test_every_transcribed_fragment_names_its_source() -> None:
    transcribed = sorted(name for name, source in _sources().items() if not source["fetch"])
    assert transcribed == ["siliconflow-cancel-batch.openapi.yaml", "siliconflow-get-file-content.openapi.yaml"]
    for name in transcribed:
        assert (FRAGMENTS / name).read_text(encoding="utf-8").startswith("# Transcribed by us"), name


def test_every_fragment_is_listed_with_its_site() -> None:
    sources = _sources()
    assert sorted(sources) == sorted(p.name for p in FRAGMENTS.iterdir() if p.suffix in {".md", ".yaml"})
    for name, source in sources.items():
        assert "site" in source, name
        if source["fetch"]:  # a fetched page: its Markdown export, from the site its address names
            url = str(source["url"])
            assert url.endswith(".md"), name
            assert url.startswith(f"https://{source['site']}/"), name


@pytest.mark.parametrize(
    ("name", "route", "method", "operation_id"),
    [
        ("siliconflow-create-batch.openapi.yaml", "/batches", "post", "UploadFiles"),
        ("siliconflow-upload-file.openapi.yaml", "/files", "post", "UploadFiles"),
        ("siliconflow-list-files.openapi.yaml", "/files", "get", "getFiles"),
    ],
)
def test_fetched_pages_are_kept_as_the_page_gives_them(name: str, route: str, method: str, operation_id: str) -> None:
    # Stored under the fragment's old name, a fetched page is still a Markdown page with one OpenAPI block.
    text = (FRAGMENTS / name).read_text(encoding="utf-8")
    assert text.startswith("> ## Documentation Index\n")
    assert f"````yaml {method} {route}\n" in text
    operation = load_fragment(FRAGMENTS / name)["paths"][route][method]
    assert operation["operationId"] == operation_id  # as published: the corrections rename it
    assert _sources()[name]["fetch"] is True


def test_a_path_repeating_the_servers_base_path_is_refused_by_name(tmp_path: Path) -> None:
    page = (FRAGMENTS / "siliconflow-get-batch.openapi.md").read_text(encoding="utf-8")
    (tmp_path / "get.md").write_text(page.replace("  /batches/{batch_id}:\n", "  /v1/batches/{batch_id}:\n"))
    with pytest.raises(FragmentError) as caught:
        merge_fragments(load_fragments(tmp_path))
    message = str(caught.value)
    assert message.startswith("get.md: `/v1/batches/{batch_id}` repeats the server URL's `/v1`")
    assert "https://api.siliconflow.cn/v1/v1/batches/{batch_id}" in message  # the URL the client would call
    assert "delete no correction" in message
    assert "`/batches/{batch_id}`" in message  # the path without the repetition


def test_a_path_under_a_server_without_a_base_path_is_not_refused(tmp_path: Path) -> None:
    op = "paths:\n  /v1/x:\n    get: {operationId: a, responses: {'200': {description: ok}}}\n"
    (tmp_path / "a.yaml").write_text(MINIMAL.replace("paths: {}\n", op) + "servers: [{url: 'https://h.example'}]\n")
    assert list(merge_fragments(load_fragments(tmp_path))["paths"]) == ["/v1/x"]


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
