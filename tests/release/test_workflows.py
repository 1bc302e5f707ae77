"""The GitHub workflows pass actionlint (from the pinned PyPI package), and actionlint does catch a mistake."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from helpers import ROOT

ACTIONLINT = Path(sys.executable).parent / "actionlint"
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def _lint(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(ACTIONLINT), *map(str, paths)], capture_output=True, text=True, timeout=60, check=False)


def test_both_workflows_pass_actionlint() -> None:
    assert [p.name for p in WORKFLOWS] == ["ci.yml", "update-spec.yml"]
    result = _lint(*WORKFLOWS)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    broken = tmp_path / ".github" / "workflows" / "ci.yml"
    broken.parent.mkdir(parents=True)
    shutil.copy(ROOT / ".github" / "workflows" / "ci.yml", broken)
    broken.write_text(
        broken.read_text().replace("runs-on: ubuntu-latest", "runs-on: ubuntu-latest\n    needs: nothing")
    )
    result = _lint(broken)
    assert result.returncode == 1
    assert "nothing" in result.stdout


def test_ci_runs_the_readme_commands_and_update_spec_opens_a_pull_request() -> None:
    ci = yaml.safe_load((ROOT / ".github" / "workflows" / "ci.yml").read_text())
    runs = [step.get("run") for step in ci["jobs"]["test"]["steps"]]
    assert "scripts/test" in runs
    assert "scripts/demo" in runs
    update = yaml.safe_load((ROOT / ".github" / "workflows" / "update-spec.yml").read_text())
    triggers = update[True]  # YAML reads the key `on` as True
    assert "schedule" in triggers
    assert "workflow_dispatch" in triggers
    steps = update["jobs"]["update"]["steps"]
    assert any("scripts/update-spec --report" in (step.get("run") or "") for step in steps)
    assert any(step.get("with", {}).get("body-path", "").endswith("report.md") for step in steps)
