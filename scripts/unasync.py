"""Generate each _sync/ folder from the _async/ beside it: every I/O loop is written once, async.

The pairs: ``siliconflow_batch/_async`` (the clients and resources) and ``siliconflow_batch/_jobs/_async`` (the
job's handle, engine and recovery).

After httpcore's scripts/unasync.py: a table of token substitutions, applied line by line. The output is then
sorted and formatted by ruff with the project's settings, so it passes the same checks as hand-written code.
``--check`` changes nothing and fails, naming the file, when _sync/ is not exactly what this script writes;
a substitution that no longer matches anything fails too, so the table cannot rot.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "overlay" / "siliconflow_batch"
FOLDERS = [(PACKAGE / "_async", PACKAGE / "_sync"), (PACKAGE / "_jobs" / "_async", PACKAGE / "_jobs" / "_sync")]

SUBS = [
    (r"AsyncIterator", "Iterator"),
    (r"AbstractAsyncContextManager", "AbstractContextManager"),
    (r"Awaitable\[([^\]]+)\]", r"\1"),
    (r"Async([A-Z][A-Za-z0-9_]*)", r"\1"),
    (r"async def", "def"),
    (r"async with", "with"),
    (r"async for", "for"),
    (r"await ", ""),
    (r"aclose", "close"),
    (r"aread", "read"),
    (r"aiter_bytes", "iter_bytes"),
    (r"async_sleep", "sleep"),
    (r"async_offload", "offload"),
    (r"async_gate", "gate"),
    (r"async_each", "each"),
    (r"async_raw_view", "raw_view"),
    (r"__aenter__", "__enter__"),
    (r"__aexit__", "__exit__"),
    (r"__aiter__", "__iter__"),
    (r"_async\.", "_sync."),  # an import of the _jobs/_async twin, or of _async/ from it
]
# Whole tokens only: "aread" must not match inside "already".
COMPILED = [
    (re.compile(r"(?<!\w)" + pattern + (r"(?!\w)" if re.search(r"\w$", pattern) else "")), replacement)
    for pattern, replacement in SUBS
]
HEADER = "# Generated from _async/{name} by scripts/unasync.py: edit that file, not this one.\n"


def unasync_text(text: str, used: set[int]) -> str:
    """The sync form of one async source file."""
    lines = []
    for line in text.splitlines(keepends=True):
        for index, (pattern, replacement) in enumerate(COMPILED):
            line, count = pattern.subn(replacement, line)
            if count:
                used.add(index)
        lines.append(line)
    return "".join(lines)


def _ruff(args: list[str], text: str, filename: Path) -> str:
    result = subprocess.run(
        ["ruff", *args, "--stdin-filename", str(filename.relative_to(ROOT)), "-"],
        input=text,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if result.returncode not in (0, 1) or (args[0] == "format" and result.returncode != 0):
        raise SystemExit(f"unasync: ruff {args[0]} failed on {filename.name}:\n{result.stderr}")
    return result.stdout


def render(source: Path, target: Path, used: set[int]) -> str:
    """The formatted sync file ``target`` for ``source``."""
    text = HEADER.format(name=source.name) + unasync_text(source.read_text(encoding="utf-8"), used)
    text = _ruff(["check", "--fix", "--select", "I,F401", "--quiet", "--exit-zero"], text, target)
    return _ruff(["format", "--quiet"], text, target)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail if _sync/ is out of date")
    args = parser.parse_args(argv)
    used: set[int] = set()
    wanted: dict[Path, str] = {}
    stale: list[Path] = []
    for source_dir, target_dir in FOLDERS:
        pairs = {target_dir / s.name: s for s in sorted(source_dir.glob("*.py"))}
        wanted.update({target: render(source, target, used) for target, source in pairs.items()})
        stale += [p for p in sorted(target_dir.glob("*.py")) if p not in pairs]
    differing = [p for p, text in wanted.items() if not p.exists() or p.read_text(encoding="utf-8") != text]
    unused = [SUBS[i][0] for i in range(len(SUBS)) if i not in used]
    if unused:
        print(f"unasync: these substitutions match nothing any more: {unused}", file=sys.stderr)
        return 1
    if args.check:
        for path in differing:
            print(f"unasync: {path.relative_to(ROOT)} is not what scripts/unasync.py writes", file=sys.stderr)
        for path in stale:
            print(f"unasync: {path.relative_to(ROOT)} has no source in _async/", file=sys.stderr)
        if differing or stale:
            print("unasync: run scripts/unasync.py (edit _async/, never _sync/)", file=sys.stderr)
            return 1
        print(f"unasync --check: each _sync/ matches its _async/ ({len(wanted)} files)")
        return 0
    for _, target_dir in FOLDERS:
        target_dir.mkdir(exist_ok=True)
    for path in stale:
        path.unlink()
    for path, text in wanted.items():
        path.write_text(text, encoding="utf-8")
    print(f"unasync: wrote {len(wanted)} files to {', '.join(str(t.relative_to(ROOT)) for _, t in FOLDERS)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
