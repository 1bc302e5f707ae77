"""scripts/regenerate: --check on a clean and a dirty tree, same bytes every run."""

from __future__ import annotations

from pathlib import Path

import pytest

from helpers import ROOT, copy_tree, run_regenerate
from regenerate import PACKAGE, tree_differences

pytestmark = pytest.mark.slow  # builds, installs or regenerates: scripts/test runs it, plain pytest does not


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return copy_tree(tmp_path_factory.mktemp("tree"))


def test_check_passes_on_the_committed_tree(tree: Path) -> None:
    result = run_regenerate(tree, "--check")
    assert result.returncode == 0, result.stderr
    assert "up to date" in result.stdout


def test_check_fails_after_one_byte_changes_under_generated(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    victim = tree / "generated" / PACKAGE / "models" / "batch.py"
    data = bytearray(victim.read_bytes())
    data[-2] ^= 0x01
    victim.write_bytes(bytes(data))
    result = run_regenerate(tree, "--check")
    assert result.returncode == 1
    assert "differs: models/batch.py" in result.stderr
    assert "run scripts/regenerate and commit the result" in result.stderr


def test_check_fails_on_a_hand_added_file_and_a_stale_spec(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    (tree / "generated" / PACKAGE / "models" / "extra.py").write_text("x = 1\n")
    spec = tree / "spec" / "openapi.yaml"
    spec.write_text(spec.read_text(encoding="utf-8") + "# edited\n", encoding="utf-8")
    result = run_regenerate(tree, "--check")
    assert result.returncode == 1
    assert "not made by the generator: models/extra.py" in result.stderr
    assert "differs: spec/openapi.yaml" in result.stderr


def test_regenerating_twice_writes_the_committed_bytes(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    for _ in range(2):
        result = run_regenerate(tree)
        assert result.returncode == 0, result.stderr
        assert tree_differences(ROOT / "generated" / PACKAGE, tree / "generated" / PACKAGE) == []
        assert (tree / "spec" / "openapi.yaml").read_bytes() == (ROOT / "spec" / "openapi.yaml").read_bytes()


def test_a_failing_step_is_one_readable_line(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    (tree / "spec" / "fragments" / "broken.md").write_text("# no yaml here\n")
    result = run_regenerate(tree, "--check")
    assert result.returncode == 1
    assert result.stderr.strip() == "regenerate: broken.md: expected one embedded yaml block, found 0"


def _generate_with(tmp_path: Path, extra: dict[str, object]) -> Path:
    """Generate the client from the committed spec with ``extra`` properties added to the Batch schema."""
    import yaml

    from regenerate import SPEC, generate_client

    spec = yaml.safe_load(Path(SPEC).read_text(encoding="utf-8"))
    spec["components"]["schemas"]["Batch"]["properties"].update(extra)
    path = tmp_path / "openapi.yaml"
    path.write_text(yaml.safe_dump(spec), encoding="utf-8")
    generate_client(path, tmp_path / "out")
    return tmp_path / "out"


def test_a_property_kind_the_model_template_does_not_check_stops_the_regeneration(tmp_path: Path) -> None:
    from regenerate import PipelineError

    with pytest.raises(PipelineError, match=r"models/batch\.py"):  # the line the template wrote is not Python
        _generate_with(tmp_path, {"paused_at": {"type": "string", "format": "date-time"}})


def test_a_number_field_is_checked_as_it_is_built(tmp_path: Path) -> None:
    out = _generate_with(tmp_path, {"cost": {"type": "number"}})
    source = (out / "models" / "batch.py").read_text(encoding="utf-8")
    assert "type(v_cost) in _NUMBER" in source


def test_every_override_records_its_stock_template_and_none_is_stale() -> None:
    from regenerate import TEMPLATES, stale_overrides

    assert sorted(p.name for p in TEMPLATES.rglob("*.jinja"))  # there are overrides, and each records its stock
    assert stale_overrides() == []


def test_an_upgraded_generator_template_names_the_override_and_prints_the_upstream_diff(tmp_path: Path) -> None:
    """As a generator upgrade would: the installed stock template no longer has the recorded SHA-256."""
    import shutil

    import openapi_python_client

    from regenerate import TEMPLATES, stale_overrides

    stock = tmp_path / "templates"
    shutil.copytree(Path(openapi_python_client.__file__).parent / "templates", stock)
    upstream = stock / "str_enum.py.jinja"
    upstream.write_text(upstream.read_text() + "# a change upstream\n")
    problems = stale_overrides(TEMPLATES, stock)
    assert len(problems) == 1
    assert problems[0].startswith("str_enum.py.jinja: the generator's str_enum.py.jinja changed since 0.29.1")
    assert "+# a change upstream" in problems[0]  # the diff to merge
    (tmp_path / "own").mkdir()
    (tmp_path / "own" / "model.py.jinja").write_text("{# no record #}\n")
    assert stale_overrides(tmp_path / "own", stock) == [
        "model.py.jinja: its first line does not record the stock template it started from"
    ]


def test_a_page_whose_path_repeats_the_base_path_fails_naming_it_not_as_a_stale_correction(tmp_path: Path) -> None:
    tree = copy_tree(tmp_path)
    page = tree / "spec" / "fragments" / "siliconflow-get-batch.openapi.md"
    page.write_text(page.read_text(encoding="utf-8").replace("  /batches/{batch_id}:\n", "  /v1/batches/{batch_id}:\n"))
    result = run_regenerate(tree, "--check")
    assert result.returncode == 1
    assert "`/v1/batches/{batch_id}` repeats the server URL's `/v1`" in result.stderr
    assert "stale correction" not in result.stderr
    assert "Delete" not in result.stderr
