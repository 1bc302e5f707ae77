"""Regenerate spec/openapi.yaml and generated/ from the vendor's fragments.

fragments -> merge -> corrections -> validate -> openapi-python-client (pinned, --fail-on-warning,
committed config and templates) -> ruff (pinned, run by the generator's post-hooks).

Everything is built in a temporary folder first; without --check the results then replace the committed
ones, with --check they are compared with the committed ones and any difference fails the run.
"""

from __future__ import annotations

import argparse
import difflib
import filecmp
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from spec_corrections import apply_corrections, load_corrections
from spec_diff import diff_specs, format_report
from spec_fragments import load_fragments, merge_fragments

ROOT = Path(__file__).resolve().parent.parent
FRAGMENTS = ROOT / "spec" / "fragments"
CORRECTIONS = ROOT / "spec" / "corrections.yaml"
SPEC = ROOT / "spec" / "openapi.yaml"
GENERATED = ROOT / "generated"
GENERATOR_DIR = ROOT / "scripts" / "generator"
RUNTIME = GENERATOR_DIR / "runtime"
TEMPLATES = GENERATOR_DIR / "templates"
STOCK_COPIES = GENERATOR_DIR / "stock"
PACKAGE = "siliconflow_batch_generated"
PYPROJECT = ROOT / "pyproject.toml"


def pinned_version(package: str) -> str:
    """The version of ``package`` pinned (``==``) in pyproject.toml's dev extra: the one place it is stated."""
    dev: list[str] = tomllib.loads(PYPROJECT.read_text(encoding="utf-8"))["project"]["optional-dependencies"]["dev"]
    for requirement in dev:
        name, sep, version = requirement.partition("==")
        if sep and name.strip() == package:
            return version.strip()
    raise SystemExit(f"regenerate: pyproject.toml pins no version of {package} in the dev extra")


GENERATOR_VERSION = pinned_version("openapi-python-client")
SPEC_HEADER = (
    "# Written by scripts/regenerate from spec/fragments/ and spec/corrections.yaml. Do not edit:\n"
    "# change a fragment or a correction and run scripts/regenerate.\n"
)

__all__ = ["PipelineError", "build_spec", "dump_spec", "generate_client", "main", "stale_overrides"]


class PipelineError(Exception):
    """A step of the regeneration failed; the message says which and why."""


def build_spec(
    fragments: Path = FRAGMENTS,
    corrections: Path = CORRECTIONS,
    *,
    skip: Iterable[str] = (),
    strict: bool = True,
    check: bool = True,
) -> dict[str, Any]:
    """Merge the fragments, apply the corrections and validate the result (``check``)."""
    merged = merge_fragments(load_fragments(fragments))
    document = apply_corrections(merged, load_corrections(corrections), skip=skip, strict=strict)
    if check:
        try:
            validate(document)
        except OpenAPIValidationError as exc:
            raise PipelineError(f"the corrected spec is not valid OpenAPI: {exc}") from exc
    return document


def dump_spec(document: dict[str, Any]) -> str:
    """Serialise the spec the same way every time (key order kept, no line folding)."""
    body = yaml.safe_dump(document, sort_keys=False, allow_unicode=True, width=10_000, default_flow_style=False)
    return SPEC_HEADER + body


STOCK_LINE = re.compile(r"\{#- stock: openapi-python-client (\S+) templates/(\S+) sha256:([0-9a-f]{64}) ")


def stale_overrides(templates: Path = TEMPLATES, stock: Path | None = None) -> list[str]:
    """The overrides whose stock template (as the installed generator has it) is not the one they started from.

    Each override's first line records the stock template it was made from (the generator's version, the file
    and its SHA-256), and ``scripts/generator/stock/`` keeps that file; each message names the override and
    gives the upstream diff to merge into it. An override that records nothing is named too.
    """
    import openapi_python_client

    stock = stock if stock is not None else Path(openapi_python_client.__file__).parent / "templates"
    problems = []
    for override in sorted(templates.rglob("*.jinja")):
        name = override.relative_to(templates).as_posix()
        match = STOCK_LINE.match(override.read_text(encoding="utf-8"))
        if match is None:
            problems.append(f"{name}: its first line does not record the stock template it started from")
            continue
        version, stock_name, digest = match.groups()
        current = stock / stock_name
        text = current.read_text(encoding="utf-8") if current.is_file() else ""
        if hashlib.sha256(text.encode("utf-8")).hexdigest() == digest:
            continue
        kept = STOCK_COPIES / stock_name
        before = kept.read_text(encoding="utf-8").splitlines() if kept.is_file() else []
        diff = "\n".join(
            "    " + line
            for line in difflib.unified_diff(
                before, text.splitlines(), f"stock {version}", "stock installed", lineterm=""
            )
        )
        problems.append(
            f"{name}: the generator's {stock_name} changed since {version} (the override started from it); "
            f"merge the upstream change below into scripts/generator/templates/{name}, then record the new "
            f"stock (its SHA-256 on the first line, its copy in scripts/generator/stock/):\n{diff}"
        )
    return problems


def generate_client(spec_path: Path, output: Path) -> None:
    """Run the pinned openapi-python-client on ``spec_path``, writing the package to ``output``."""
    installed = metadata.version("openapi-python-client")
    if installed != GENERATOR_VERSION:
        raise PipelineError(
            f"openapi-python-client {installed} is installed but {GENERATOR_VERSION} is pinned: run scripts/test"
        )
    stale = stale_overrides()
    if stale:
        raise PipelineError("templates to merge before generating:\n  " + "\n  ".join(stale))
    # The generator's post-hooks call ruff by name; put this interpreter's ruff first on PATH.
    env = dict(os.environ, PATH=os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")]))
    if shutil.which("ruff", path=env["PATH"]) is None:
        raise PipelineError("ruff is not on PATH: without it the generator skips formatting and its output changes")
    command = [
        sys.executable,
        "-m",
        "openapi_python_client",
        "generate",
        "--path",
        str(spec_path),
        "--meta",
        "none",
        "--config",
        str(GENERATOR_DIR / "config.yaml"),
        "--custom-template-path",
        str(TEMPLATES),
        "--output-path",
        str(output),
        "--fail-on-warning",
        "--overwrite",
    ]
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)
    if result.returncode != 0 or not (output / "__init__.py").is_file():
        raise PipelineError(f"openapi-python-client failed (exit {result.returncode}):\n{result.stdout}{result.stderr}")
    # Hooks that fail leave the output unformatted without failing the generator; refuse that.
    if "Unable to run post hook" in result.stdout + result.stderr:
        raise PipelineError(f"a generator post-hook failed:\n{result.stdout}{result.stderr}")


def provenance(spec_text: str) -> str:
    """The module recording which spec and which generator made the package."""
    digest = hashlib.sha256(spec_text.encode("utf-8")).hexdigest()
    return (
        '"""Where this package came from; written by scripts/regenerate."""\n\n'
        f'SPEC_SHA256 = "{digest}"\n'
        f'GENERATOR_VERSION = "openapi-python-client {GENERATOR_VERSION}"\n'
    )


def build_all(workdir: Path) -> tuple[Path, Path]:
    """Build the spec and the package under ``workdir``; return their paths."""
    spec_text = dump_spec(build_spec())
    spec_path = workdir / "openapi.yaml"
    spec_path.write_text(spec_text, encoding="utf-8")
    package = workdir / PACKAGE
    generate_client(spec_path, package)
    # With --meta none the generator writes no PEP 561 marker; the wheel needs one.
    (package / "py.typed").write_text("# Marker file for PEP 561\n", encoding="utf-8")
    (package / "_provenance.py").write_text(provenance(spec_text), encoding="utf-8")
    for runtime in sorted(RUNTIME.glob("*.py")):  # the models' helpers: real Python, checked with scripts/
        shutil.copyfile(runtime, package / runtime.name)
    shutil.rmtree(package / "__pycache__", ignore_errors=True)
    return spec_path, package


def tree_differences(expected: Path, actual: Path) -> list[str]:
    """Describe how the tree ``actual`` differs from ``expected`` (empty when they are the same)."""
    problems: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        problems.extend(f"missing from the committed tree: {prefix}{name}" for name in sorted(cmp.left_only))
        problems.extend(f"not made by the generator: {prefix}{name}" for name in sorted(cmp.right_only))
        for name in sorted(cmp.common_files):
            a, b = Path(cmp.left) / name, Path(cmp.right) / name
            if a.read_bytes() != b.read_bytes():
                problems.append(f"differs: {prefix}{name}\n" + _short_diff(a, b))
        for name, sub in sorted(cmp.subdirs.items()):
            walk(sub, f"{prefix}{name}/")

    if not actual.is_dir():
        return [f"missing: {actual}"]
    walk(filecmp.dircmp(expected, actual, ignore=["__pycache__"]), "")
    return problems


def _short_diff(expected: Path, actual: Path, limit: int = 20) -> str:
    lines = list(
        difflib.unified_diff(
            actual.read_text(encoding="utf-8", errors="replace").splitlines(),
            expected.read_text(encoding="utf-8", errors="replace").splitlines(),
            "committed",
            "regenerated",
            lineterm="",
        )
    )
    shown = "\n".join("    " + line for line in lines[:limit])
    return shown + (f"\n    ... {len(lines) - limit} more diff lines" if len(lines) > limit else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/regenerate", description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--check", action="store_true", help="fail if spec/openapi.yaml or generated/ differ from what this makes"
    )
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="regenerate-") as tmp:
        try:
            spec_path, package = build_all(Path(tmp))
        except Exception as exc:  # every failure ends the run with one readable line, not a traceback
            print(f"regenerate: {exc}", file=sys.stderr)
            return 1
        target = GENERATED / PACKAGE
        if args.check:
            problems = []
            if not SPEC.is_file() or SPEC.read_bytes() != spec_path.read_bytes():
                problems.append(
                    "differs: spec/openapi.yaml\n" + (_short_diff(spec_path, SPEC) if SPEC.is_file() else "")
                )
            problems += [f"generated/{PACKAGE}: {p}" for p in tree_differences(package, target)]
            if problems:
                print("regenerate --check: the committed files are not what the script makes:", file=sys.stderr)
                for problem in problems:
                    print("  " + problem, file=sys.stderr)
                print("run scripts/regenerate and commit the result", file=sys.stderr)
                return 1
            print("regenerate --check: spec/openapi.yaml and generated/ are up to date")
            return 0
        if SPEC.is_file():
            print(format_report(diff_specs(yaml.safe_load(SPEC.read_text()), yaml.safe_load(spec_path.read_text()))))
        SPEC.write_bytes(spec_path.read_bytes())
        shutil.rmtree(target, ignore_errors=True)
        shutil.copytree(package, target)
        print(
            f"regenerate: wrote spec/openapi.yaml and generated/{PACKAGE} (openapi-python-client {GENERATOR_VERSION})"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
