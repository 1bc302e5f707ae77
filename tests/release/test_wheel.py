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
from regenerate import pinned_version

pytestmark = pytest.mark.slow  # builds, installs or regenerates: scripts/test runs it, plain pytest does not


def _run(*command: str | Path, cwd: Path | None = None) -> str:
    result = subprocess.run(
        [str(c) for c in command], capture_output=True, text=True, check=False, timeout=600, cwd=cwd
    )
    assert result.returncode == 0, f"{command}:\n{result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "build", "--outdir", out, ROOT)  # what scripts/build runs
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    (built,) = dist.glob("siliconflow_batch-*-py3-none-any.whl")
    return built


def test_build_makes_a_wheel_and_an_sdist(dist: Path, wheel: Path) -> None:
    version = Parser().parsestr(
        zipfile.ZipFile(wheel).read(f"{wheel.name.split('-py3')[0]}.dist-info/METADATA").decode()
    )["Version"]
    assert wheel.name == f"siliconflow_batch-{version}-py3-none-any.whl"
    assert (dist / f"siliconflow_batch-{version}.tar.gz").is_file()


def test_wheel_holds_both_packages_typed_and_nothing_else(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    top = {name.split("/")[0] for name in names}
    assert top == {"siliconflow_batch", "siliconflow_batch_generated", wheel.name.split("-py3")[0] + ".dist-info"}
    assert "siliconflow_batch/py.typed" in names
    assert "siliconflow_batch_generated/py.typed" in names
    assert "siliconflow_batch_generated/models/batch.py" in names
    assert "siliconflow_batch/data/batch_prices.json" in names  # the batch prices travel with the package


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
    assert "python-multipart" not in installed  # the emulator's extra is not a run-time dependency
    missing = subprocess.run(
        [python, "-c", "import siliconflow_batch.testing"], capture_output=True, text=True, cwd=tmp_path, check=False
    )
    assert "pip install 'siliconflow-batch[emulator]'" in missing.stderr
    _run(python, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", f"{wheel}[emulator]")
    snippet = (
        "from siliconflow_batch import SiliconFlow\n"
        "from siliconflow_batch.testing import Emulator\n"
        "import json, pathlib, sys\n"
        "emulator = Emulator()\n"
        "path = pathlib.Path(sys.argv[1])\n"
        'path.write_text(\'{"custom_id":"a","method":"POST","url":"/v1/chat/completions",\'\n'
        '                \'"body":{"model":"Qwen/QwQ-32B","messages":[{"role":"user","content":"x"}]}}\\n\')\n'
        "with emulator.serve() as server:\n"
        "    client = SiliconFlow(api_key=emulator.api_key, base_url=server.url)\n"
        "    batch = client.batches.create(input_file_id=client.files.upload(path).id)\n"
        "    print(client.batches.retrieve(batch.id).status)\n"
        "from siliconflow_batch.pricing import PriceTable\n"
        "print(PriceTable.load().as_of)\n"
    )
    # Run outside the source tree so nothing is imported from it by accident.
    assert _run(python, "-c", snippet, tmp_path / "r.jsonl", cwd=tmp_path).split() == ["in_queue", "2026-11-24"]
    shown = _run(env / "bin" / "siliconflow-batch", "--version", cwd=tmp_path)
    assert shown.startswith("siliconflow-batch ")
    assert "spec sha256 " in shown
    assert f"openapi-python-client {pinned_version('openapi-python-client')}" in shown


def test_the_index_sees_typed_metadata_and_a_readme_without_broken_links(dist: Path, wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        (name,) = [n for n in archive.namelist() if n.endswith(".dist-info/METADATA")]
        metadata = Parser().parsestr(archive.read(name).decode())
    classifiers = metadata.get_all("Classifier") or []
    assert "Typing :: Typed" in classifiers
    assert "Programming Language :: Python :: 3.11" in classifiers
    assert all(url.split(", ", 1)[1].startswith("https://") for url in metadata.get_all("Project-URL") or [])
    description = str(metadata.get_payload())
    assert "# siliconflow-batch" in description
    links = re.findall(r"\]\(([^)]+)\)", description)
    assert links
    assert all(link.startswith(("https://", "http://", "#")) for link in links), links  # relative ones are rewritten
    _run(Path(sys.executable).parent / "twine", "check", "--strict", *dist.iterdir())  # what scripts/build runs
