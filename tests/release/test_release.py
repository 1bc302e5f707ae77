"""Release engineering: the API change report, the Python surface against the last release, update-spec."""

from __future__ import annotations

import copy
import http.server
import shutil
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

import pytest
import yaml

from release import bump_of, current_version

from api_surface import breaking_changes, is_major_bump, load_recorded, load_surface
from helpers import ROOT, copy_tree
from spec_diff import diff_specs, format_report, required_bump

pytestmark = pytest.mark.slow  # builds, installs or regenerates: scripts/test runs it, plain pytest does not

SPEC: dict[str, Any] = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text())


def _changed(edit: Any) -> dict[str, Any]:
    new = copy.deepcopy(SPEC)
    edit(new)
    return new


def _batch(spec: dict[str, Any]) -> dict[str, Any]:
    schema: dict[str, Any] = spec["components"]["schemas"]["Batch"]
    return schema


@pytest.mark.parametrize(
    ("edit", "bump", "line"),
    [
        (
            lambda s: _batch(s)["properties"].update(x_test_field_7f3a={"type": "integer"}),
            "minor",
            "[added] schema Batch.x_test_field_7f3a: optional field added",
        ),
        (
            lambda s: _batch(s)["properties"].pop("file_name"),
            "major",
            "[BREAKING] schema Batch.file_name: field removed",
        ),
        (
            lambda s: _batch(s)["properties"]["status"]["enum"].append("paused"),
            "minor",
            "[added] schema Batch.status: enum value 'paused' added",
        ),
        (
            lambda s: _batch(s)["properties"]["created_at"].update(type="string"),
            "major",
            "[BREAKING] schema Batch.created_at: type changed from 'integer' to 'string'",
        ),
        (
            lambda s: _batch(s)["properties"]["status"].update(description="The state."),
            "patch",
            "[changed] schema Batch.status: description changed",
        ),
        (
            lambda s: s["paths"]["/batches/{batch_id}"].pop("get"),
            "major",
            "[BREAKING] GET /batches/{batch_id}: operation removed",
        ),
        (
            lambda s: s["paths"]["/batches"]["get"]["parameters"].append(
                {"name": "order", "in": "query", "required": False, "schema": {"type": "string"}}
            ),
            "minor",
            "[added] GET /batches: optional parameter order (query) added",
        ),
        (
            lambda s: _batch(s)["properties"]["status"]["enum"].remove("in_queue"),
            "major",
            "[BREAKING] schema Batch.status: enum value 'in_queue' removed",
        ),
    ],
)
def test_change_report_marks_each_change(edit: Any, bump: str, line: str) -> None:
    changes = diff_specs(SPEC, _changed(edit))
    assert [str(c) for c in changes] == [line]
    assert required_bump(changes) == bump
    assert format_report(changes).endswith(f"version bump: {bump}")


def test_no_change_no_report() -> None:
    assert diff_specs(SPEC, copy.deepcopy(SPEC)) == []
    assert format_report([]) == "API change report: no changes"


@pytest.mark.parametrize(
    ("old", "new", "bump"),
    [
        ("0.1.0", "0.1.1", "minor"),
        ("0.1.0", "0.2.0", "major"),
        ("1.2.3", "1.2.4", "patch"),
        ("1.2.3", "1.3.0", "minor"),
        ("1.2.3", "2.0.0", "major"),
        ("1.2.3", "1.2.3", "none"),
        ("1.2.3", "1.2.2", "none"),
    ],
)
def test_version_steps(old: str, new: str, bump: str) -> None:
    assert bump_of(old, new) == bump
    assert is_major_bump(old, new) == (bump == "major")


def _package(root: Path, source: str) -> Any:
    import griffe

    (root / "pkg").mkdir(parents=True)
    (root / "pkg" / "__init__.py").write_text(source)
    return griffe.GriffeLoader(search_paths=[str(root)]).load("pkg")


def test_a_default_named_in_one_home_breaks_nobody_unless_its_value_changed(tmp_path: Path) -> None:
    old = _package(tmp_path / "old", "def wait(limit: int = 8) -> None: ...\n")
    same = _package(tmp_path / "same", "LIMIT = 8\ndef wait(limit: int = LIMIT) -> None: ...\n")
    other = _package(tmp_path / "other", "LIMIT = 9\ndef wait(limit: int = LIMIT) -> None: ...\n")
    assert breaking_changes(old, same) == []
    assert [line.split(": ", 1)[1] for line in breaking_changes(old, other)] == [
        "wait(limit): Parameter default was changed: 8 -> LIMIT"
    ]


def test_a_changed_value_of_a_default_in_its_one_home_is_a_breaking_change(tmp_path: Path) -> None:
    for name in ("overlay", "generated"):
        shutil.copytree(ROOT / name, tmp_path / name, ignore=shutil.ignore_patterns("__pycache__"))
    defaults = tmp_path / "overlay" / "siliconflow_batch" / "_defaults.py"
    text = defaults.read_text()
    assert "DEFAULT_POLLS_IN_FLIGHT = 8" in text
    defaults.write_text(text.replace("DEFAULT_POLLS_IN_FLIGHT = 8", "DEFAULT_POLLS_IN_FLIGHT = 9"))
    assert breaking_changes(load_surface(), load_surface(tmp_path)) == [
        "siliconflow_batch._defaults.DEFAULT_POLLS_IN_FLIGHT: default value was changed: 8 -> 9"
    ]  # wait_many's signature still reads max_concurrency=DEFAULT_POLLS_IN_FLIGHT: griffe alone sees nothing


def test_no_breaking_change_since_the_last_release_without_a_major_bump() -> None:
    released, recorded = load_recorded()
    breaks = breaking_changes(recorded, load_surface())
    spec_changes = diff_specs(yaml.safe_load((ROOT / "release" / "openapi.yaml").read_text()), SPEC)
    if breaks or required_bump(spec_changes) == "major":
        assert is_major_bump(released, current_version()), (
            f"breaking changes since {released} need a major version (minor while 0.x): "
            f"{breaks + [str(c) for c in spec_changes if c.breaking]}"
        )


def _tree(tmp_path: Path) -> Path:
    """A committed git checkout of what a release reads, its last release recorded in the first commit."""
    tree = copy_tree(tmp_path)
    for name in ("overlay", "release"):
        shutil.copytree(ROOT / name, tree / name, ignore=shutil.ignore_patterns("__pycache__"))
    for name in ("pyproject.toml", "CHANGELOG.md"):
        shutil.copy(ROOT / name, tree / name)
    _git(tree, "init", "--quiet")
    _commit(tree, "The last release")
    return tree


def _git(tree: Path, *args: str) -> None:
    identity = ["-c", "user.name=test", "-c", "user.email=test@example.com"]
    subprocess.run(["git", *identity, *args], cwd=tree, check=True, capture_output=True, timeout=60)


def _commit(tree: Path, subject: str) -> None:
    _git(tree, "add", "-A")
    _git(tree, "commit", "--quiet", "--allow-empty", "-m", subject)


def _release(tree: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(tree / "scripts" / "release.py"), *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )


def test_a_breaking_signature_change_is_caught_and_needs_a_major_bump(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    module = tree / "overlay" / "siliconflow_batch" / "validation.py"
    source = module.read_text()
    module.write_text(
        source.replace(
            "path: str | os.PathLike[str], *, endpoint: str = CHAT_COMPLETIONS, replace_model: str | None = None",
            "path: str | os.PathLike[str], *, endpoint: str = CHAT_COMPLETIONS",
        )
    )
    assert module.read_text() != source
    _commit(tree, "validate_requests: drop replace_model")
    breaks = breaking_changes(load_recorded(tree / "release" / "api-surface.json")[1], load_surface(tree))
    assert any("validate_requests" in b and "replace_model" in b and "removed" in b for b in breaks), breaks
    now, patch, minor = _next_versions()
    refused = _release(tree, patch)
    assert refused.returncode == 1
    expected = f"{now} -> {patch} allows a minor change, but the changes since the last release need major"
    assert expected in refused.stderr
    accepted = _release(tree, minor)
    assert accepted.returncode == 0, accepted.stderr
    assert f'version = "{minor}"' in (tree / "pyproject.toml").read_text()
    changelog = (tree / "CHANGELOG.md").read_text()
    assert changelog.index(f"## {minor}") < changelog.index(f"## {now}")
    assert "[BREAKING] python:" in changelog
    assert "- validate_requests: drop replace_model" in changelog  # the commits since the last release
    assert "- The last release" not in changelog
    assert load_recorded(tree / "release" / "api-surface.json")[0] == minor


def _next_versions() -> tuple[str, str, str]:
    """The current version (0.x), its next patch and its next minor version."""
    now = current_version()
    major, minor, patch = (int(part) for part in now.split("."))
    assert major == 0, "these tests speak of 0.x versions, where a breaking change is a minor bump"
    return now, f"0.{minor}.{patch + 1}", f"0.{minor + 1}.0"


def test_release_of_an_unchanged_tree_needs_a_higher_version(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    now, patch, _ = _next_versions()
    assert _release(tree, now).returncode == 1
    assert _release(tree, patch).returncode == 0
    assert "API changes:\n\n- none\n\nCommits:\n\n- none" in (tree / "CHANGELOG.md").read_text()


def test_a_release_on_a_dirty_tree_is_refused(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    _, patch, _ = _next_versions()
    edited = tree / "overlay" / "siliconflow_batch" / "cli" / "_main.py"
    edited.write_text("# an edit not committed\n", encoding="utf-8")
    refused = _release(tree, patch)
    assert refused.returncode == 1
    assert "uncommitted changes" in refused.stderr
    assert "overlay/siliconflow_batch/cli/_main.py" in refused.stderr
    assert 'version = "' + patch not in (tree / "pyproject.toml").read_text()


class _Pages(http.server.BaseHTTPRequestHandler):
    pages: ClassVar[dict[str, bytes]] = {}

    def do_GET(self) -> None:
        body = self.pages.get(self.path)
        self.send_response(200 if body is not None else 404)
        self.send_header("Content-Length", str(len(body or b"")))
        self.end_headers()
        self.wfile.write(body or b"")

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def docs_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Pages)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_update_spec_fetches_a_changed_page_and_reports(tmp_path: Path, docs_server: str) -> None:
    tree = _tree(tmp_path)
    fragments = tree / "spec" / "fragments"
    get_page = (fragments / "siliconflow-get-batch.openapi.md").read_bytes()
    list_page = (fragments / "siliconflow-list-batches.openapi.md").read_text()
    changed = list_page.replace(
        """        - name: after
          in: query""",
        """        - name: order
          in: query
          required: false
          schema:
            type: string
          description: asc or desc.
        - name: after
          in: query""",
    )
    assert changed != list_page
    account_page = (fragments / "siliconflow-user-info.openapi.md").read_bytes()
    _Pages.pages = {"/get-batch.md": get_page, "/get-batch-list.md": changed.encode(), "/user-info.md": account_page}
    sources = tree / "spec" / "sources.yaml"
    listed = yaml.safe_load(sources.read_text())
    listed["fragments"]["siliconflow-get-batch.openapi.md"]["url"] = f"{docs_server}/get-batch.md"
    listed["fragments"]["siliconflow-list-batches.openapi.md"]["url"] = f"{docs_server}/get-batch-list.md"
    listed["fragments"]["siliconflow-user-info.openapi.md"]["url"] = f"{docs_server}/user-info.md"
    for name in (
        "siliconflow-create-batch.openapi.yaml",
        "siliconflow-upload-file.openapi.yaml",
        "siliconflow-list-files.openapi.yaml",
    ):  # served as they are: unchanged pages
        _Pages.pages[f"/{name}"] = (fragments / name).read_bytes()
        listed["fragments"][name]["url"] = f"{docs_server}/{name}"
    fetched = sorted(name for name, source in listed["fragments"].items() if source.get("fetch"))
    # every page with an OpenAPI block is fetched: the batch and file pages and the account page
    assert fetched == [
        "siliconflow-create-batch.openapi.yaml",
        "siliconflow-get-batch.openapi.md",
        "siliconflow-list-batches.openapi.md",
        "siliconflow-list-files.openapi.yaml",
        "siliconflow-upload-file.openapi.yaml",
        "siliconflow-user-info.openapi.md",
    ]
    sources.write_text(yaml.safe_dump(listed))
    report = tmp_path / "report.md"
    result = subprocess.run(
        [sys.executable, str(tree / "scripts" / "update_spec.py"), "--sources", str(sources), "--report", str(report)],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert "1 page(s) changed: siliconflow-list-batches.openapi.md" in result.stdout
    assert "[added] GET /batches: optional parameter order (query) added" in result.stdout
    assert "version bump: minor" in result.stdout
    body = report.read_text()  # the pull request's body, as the update-spec workflow opens it
    assert "- `spec/fragments/siliconflow-list-batches.openapi.md`" in body
    assert "[added] GET /batches: optional parameter order (query) added" in body
    assert "**Version bump needed: minor**" in body
    assert (fragments / "siliconflow-list-batches.openapi.md").read_text() == changed
    assert (
        "order"
        in (tree / "generated" / "siliconflow_batch_generated" / "api" / "default" / "list_batches.py").read_text()
    )
