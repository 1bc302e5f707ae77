"""The wheel built from this tree installs into a fresh venv with no dev tools and imports."""

from __future__ import annotations

import re
import subprocess
import sys
import venv
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

from helpers import ROOT


def _run(*command: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, check=False, timeout=600, cwd=cwd
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "-w", out, ROOT)
    (built,) = out.glob("siliconflow_batch-*.whl")
    return built


def test_wheel_holds_both_packages_typed_and_nothing_else(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"siliconflow_batch", "siliconflow_batch_generated", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "siliconflow_batch/py.typed" in names
    assert "siliconflow_batch_generated/py.typed" in names
    assert "siliconflow_batch_generated/models/batch.py" in names


def test_wheel_requires_only_the_runtime_dependencies(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(name).decode())
    unconditional = [r for r in metadata.get_all("Requires-Dist") or [] if ";" not in r]
    assert {re.split(r"[<>=!~ \[]", r)[0] for r in unconditional} == {"attrs", "httpx", "python-dateutil"}
    assert metadata["Requires-Python"] == ">=3.11"


def test_wheel_installs_into_a_fresh_venv_and_imports(wheel: Path, tmp_path: Path) -> None:
    env = tmp_path / "venv"
    venv.create(env, with_pip=True)
    python = env / "bin" / "python"
    _run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", wheel)
    installed = _run(python, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check")
    assert "openapi-python-client" not in installed
    assert "ruff" not in installed
    snippet = (
        "import siliconflow_batch, siliconflow_batch_generated\n"
        "from siliconflow_batch_generated.models import Batch\n"
        "b = Batch.from_dict({'id': 'b', 'object': 'batch', 'endpoint': '/v1/chat/completions',"
        " 'input_file_id': 'f', 'completion_window': '24h', 'status': 'paused', 'created_at': 1})\n"
        "print(siliconflow_batch.__version__, b.status)\n"
    )
    version = Parser().parsestr(
        zipfile.ZipFile(wheel).read(f"{wheel.name.split('-py3')[0]}.dist-info/METADATA").decode()
    )["Version"]
    # Run outside the source tree so nothing is imported from it by accident.
    assert _run(python, "-c", snippet, cwd=tmp_path).split() == [version, "paused"]
