"""Fetch the vendor's published pages listed in spec/sources.yaml into spec/fragments/, then regenerate.

Only pages marked ``fetch: true`` are downloaded (verbatim); the regeneration that follows prints the API
change report, and fails by name if a correction went stale because the vendor fixed a page.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

import httpx
import yaml

from spec_diff import Change, diff_specs, format_report, required_bump

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT / "spec" / "sources.yaml"
FRAGMENTS = ROOT / "spec" / "fragments"
SPEC = ROOT / "spec" / "openapi.yaml"

__all__ = ["fetch_pages", "main", "pull_request_body"]


def fetch_pages(sources: Path, fragments: Path, client: httpx.Client) -> list[str]:
    """Download every ``fetch: true`` page over its fragment; return the names of the fragments that changed."""
    listed = yaml.safe_load(sources.read_text(encoding="utf-8"))["fragments"]
    unknown = sorted(set(listed) - {p.name for p in fragments.iterdir()})
    if unknown:
        raise SystemExit(f"update-spec: {sources.name} lists fragments that do not exist: {unknown}")
    changed = []
    for name, source in listed.items():
        if not source.get("fetch"):
            continue
        response = client.get(source["url"])
        response.raise_for_status()
        target = fragments / name
        if target.read_bytes() != response.content:
            target.write_bytes(response.content)
            changed.append(name)
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="scripts/update-spec", description=__doc__.split("\n\n")[0])
    parser.add_argument("--sources", type=Path, default=SOURCES, help="the list of pages (default spec/sources.yaml)")
    parser.add_argument("--report", type=Path, help="also write the change report here, as a pull request's body")
    args = parser.parse_args(argv)
    before = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
    with httpx.Client(timeout=30.0, follow_redirects=True) as client:
        try:
            changed = fetch_pages(args.sources, FRAGMENTS, client)
        except httpx.HTTPError as error:
            print(f"update-spec: {error}", file=sys.stderr)
            return 1
    print(f"update-spec: {len(changed)} page(s) changed: {', '.join(changed) or 'none'}")
    code = subprocess.run([sys.executable, str(ROOT / "scripts" / "regenerate.py")], check=False).returncode
    if args.report is not None:
        after = yaml.safe_load(SPEC.read_text(encoding="utf-8"))
        args.report.write_text(pull_request_body(changed, diff_specs(before, after)), encoding="utf-8")
    return code


def pull_request_body(pages: list[str], changes: list[Change]) -> str:
    """The update's pull request body: the pages that changed, the API change report and the bump it needs."""
    listed = "\n".join(f"- `spec/fragments/{page}`" for page in pages) or "- none (only the regeneration changed)"
    report = format_report(changes)
    return (
        "The vendor's API reference changed; `scripts/update-spec` fetched it and regenerated the client.\n\n"
        f"Pages that changed:\n{listed}\n\n"
        f"```\n{report}\n```\n\n"
        f"**Version bump needed: {required_bump(changes)}** (run `scripts/release X.Y.Z` after merging).\n"
    )


if __name__ == "__main__":
    sys.exit(main())
