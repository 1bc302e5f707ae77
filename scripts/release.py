"""Prepare a release: check the version against what changed, set it, record the surface, write the changelog.

What changed since the last release is measured two ways: the API change report between
release/openapi.yaml and spec/openapi.yaml, and griffe's breaking changes between
release/api-surface.json and the package as it is now. The new version must be at least the bump they call
for (semver; while the major is 0, a breaking change bumps the minor). The CHANGELOG entry is written from the
API change report and the subjects of the commits since the last release; a tree with uncommitted changes is
refused, so that what is recorded is what was committed.
"""

from __future__ import annotations

import argparse
import datetime
import re
import subprocess
import sys
from pathlib import Path

import yaml

from api_surface import RECORD, breaking_changes, dump_surface, is_major_bump, load_recorded, load_surface
from spec_diff import BUMPS, Change, diff_specs, required_bump

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = ROOT / "pyproject.toml"
SPEC = ROOT / "spec" / "openapi.yaml"
RELEASED_SPEC = ROOT / "release" / "openapi.yaml"
CHANGELOG = ROOT / "CHANGELOG.md"
VERSION_LINE = re.compile(r'^version = "(\d+\.\d+\.\d+)"$', re.M)

__all__ = ["bump_of", "commits_since_last_release", "current_version", "main", "pending_changes"]


def _git(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=False, timeout=60)


def uncommitted() -> list[str] | None:
    """The uncommitted changes (``git status --porcelain`` lines), or None when ROOT is not a git checkout."""
    status = _git("status", "--porcelain")
    return None if status.returncode != 0 else [line for line in status.stdout.splitlines() if line.strip()]


def commits_since_last_release() -> list[str]:
    """The subjects of the commits since the one that last recorded a release, oldest first."""
    last = _git("log", "-1", "--format=%H", "--", "release/api-surface.json").stdout.strip()
    span = [f"{last}..HEAD"] if last else ["HEAD"]
    subjects = _git("log", "--reverse", "--no-merges", "--format=%s", *span).stdout.splitlines()
    return [subject for subject in subjects if subject.strip()]


def current_version() -> str:
    """The version in pyproject.toml."""
    match = VERSION_LINE.search(PYPROJECT.read_text(encoding="utf-8"))
    if match is None:
        raise SystemExit("release: no version line in pyproject.toml")
    return match.group(1)


def bump_of(old: str, new: str) -> str:
    """What the step from ``old`` to ``new`` allows: major (breaking), minor (features), patch, or none.

    While the major is 0, a minor step allows breaking changes and a patch step everything else.
    """
    o, n = (tuple(int(p) for p in v.split(".")) for v in (old, new))
    if n <= o:
        return "none"
    if is_major_bump(old, new):
        return "major"
    if o[0] == 0 or n[1] > o[1]:
        return "minor"
    return "patch"


def pending_changes() -> tuple[str, list[Change], list[str]]:
    """The last release's version, the spec changes since it, and the Python surface's breaking changes."""
    released, old_surface = load_recorded(RECORD)
    spec_changes = diff_specs(yaml.safe_load(RELEASED_SPEC.read_text()), yaml.safe_load(SPEC.read_text()))
    return released, spec_changes, breaking_changes(old_surface, load_surface())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/release", description=__doc__.split("\n\n")[0])
    parser.add_argument("version", help="the new version, X.Y.Z")
    parser.add_argument("--initial", action="store_true", help="record the first release, with nothing to compare")
    args = parser.parse_args(argv)
    if not re.fullmatch(r"\d+\.\d+\.\d+", args.version):
        print(f"release: {args.version!r} is not X.Y.Z", file=sys.stderr)
        return 2
    dirty = uncommitted()
    if dirty is None:
        print(f"release: {ROOT} is not a git checkout; a release records what was committed", file=sys.stderr)
        return 1
    if dirty:
        shown = "".join(f"\n  {line}" for line in dirty[:10])
        print(f"release: the tree has uncommitted changes; commit or stash them first:{shown}", file=sys.stderr)
        return 1
    spec_changes: list[Change] = []
    surface_breaks: list[str] = []
    if args.initial:
        given, released = "initial", "-"
    else:
        released, spec_changes, surface_breaks = pending_changes()
        needed = "major" if surface_breaks else required_bump(spec_changes)
        given = bump_of(released, args.version)
        for line in [*(str(c) for c in spec_changes), *(f"[BREAKING] python: {b}" for b in surface_breaks)]:
            print(f"  {line}")
        if given == "none" or BUMPS.index(given) < BUMPS.index(needed):
            print(
                f"release: {released} -> {args.version} allows a {given} change, but the changes since the last "
                f"release need {needed}",
                file=sys.stderr,
            )
            return 1
    text = PYPROJECT.read_text(encoding="utf-8")
    PYPROJECT.write_text(VERSION_LINE.sub(f'version = "{args.version}"', text, count=1), encoding="utf-8")
    RECORD.write_text(dump_surface(args.version), encoding="utf-8")
    RELEASED_SPEC.write_bytes(SPEC.read_bytes())
    today = datetime.date.today().isoformat()
    entry = [f"## {args.version} - {today}", ""]
    changes = [f"- {c}" for c in spec_changes] + [f"- [BREAKING] python: {b}" for b in surface_breaks]
    entry += ["API changes:", "", *(changes or ["- none"]), ""]
    entry += ["Commits:", "", *(f"- {subject}" for subject in commits_since_last_release() or ["none"]), "", ""]
    old = CHANGELOG.read_text(encoding="utf-8") if CHANGELOG.exists() else "# Changelog\n\n"
    head, marker, rest = old.partition("\n## ")  # the newest entry goes above the last one
    CHANGELOG.write_text(
        head.rstrip("\n") + "\n\n" + "\n".join(entry) + (marker.lstrip("\n") + rest if marker else ""), encoding="utf-8"
    )
    print(f"release: {released} -> {args.version} ({given}); recorded the surface and the spec; wrote CHANGELOG.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
