"""Write _async/raw.py (each resource's ``with_raw_response``) from the methods marked ``@single_request`` in _async/.

A view holds, for each marked method of its resource, the method itself run by ``_response.async_raw_view``: typed
through the method's ParamSpec (the twin's parameters are the method's, its answer an ``APIResponse`` of the method's),
so a view is derived, never written by hand. The views are written here rather than made at run time so that mypy
and griffe see their members. The sync twin, _sync/raw.py, is then written as scripts/unasync.py writes it.
``--check`` changes nothing and fails when either file is not what this script writes.
"""

from __future__ import annotations

import argparse
import ast
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from unasync import ROOT, render

SOURCE = ROOT / "overlay" / "siliconflow_batch" / "_async"
TARGET = SOURCE / "raw.py"
SYNC_TARGET = ROOT / "overlay" / "siliconflow_batch" / "_sync" / "raw.py"


@dataclass(frozen=True)
class View:
    """One resource's raw view: its module (``batches``, also the client's attribute), class and twins."""

    module: str
    resource: str
    twins: tuple[tuple[str, str], ...]  # (the view's name, the method's name)

    @property
    def name(self) -> str:
        """The view's class: ``AsyncRawBatches`` for ``AsyncBatches``."""
        return "AsyncRaw" + self.resource.removeprefix("Async")


MARK = "single_request"


def _raw_name(decorator: ast.expr, method: str) -> str | None:
    """The twin's name if ``decorator`` is ``@single_request`` or ``@single_request(raw_name=...)``, else None."""
    if isinstance(decorator, ast.Name) and decorator.id == MARK:
        return method
    if isinstance(decorator, ast.Call) and isinstance(decorator.func, ast.Name) and decorator.func.id == MARK:
        for keyword in decorator.keywords:
            if keyword.arg == "raw_name" and isinstance(keyword.value, ast.Constant):
                return str(keyword.value.value)
        raise SystemExit(f"raw_views: @single_request(...) on {method} takes raw_name='...' and nothing else")
    return None


def views(source: Path = SOURCE) -> list[View]:
    """Every resource class in ``source`` with a marked method, in the order of its module's name."""
    found = []
    for path in sorted(source.glob("*.py")):
        for node in ast.parse(path.read_text(encoding="utf-8")).body:
            if not isinstance(node, ast.ClassDef):
                continue
            twins = tuple(
                (name, item.name)
                for item in node.body
                if isinstance(item, ast.AsyncFunctionDef | ast.FunctionDef)
                for name in [next(filter(None, (_raw_name(d, item.name) for d in item.decorator_list)), None)]
                if name is not None
            )
            if twins:
                found.append(View(path.stem, node.name, twins))
    return found


def _listed(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def _names(view: View) -> str:
    return _listed(
        [f"``{name}``" + ("" if name == method else f" (``{view.module}.{method}``)") for name, method in view.twins]
    )


def text(found: list[View]) -> str:
    """The source of _async/raw.py for ``found``."""
    attributes = _listed([f"``client.{view.module}``" for view in found])
    lines = [
        "# Written by scripts/raw_views.py from the @single_request methods of _async/: never edit this file.",
        f'"""``with_raw_response`` of {attributes}.',
        "",
        "Each is its resource's single-request methods (marked ``@single_request``), returning the HTTP response",
        "with its parsed value (:class:`APIResponse`), derived by ``_response.async_raw_view`` as openai-python",
        "derives its raw responses: the parameters, checks and retries are the methods' own, stated once. A",
        "method's requests on the way (a create looked up by its key) are parsed as usual; the response given back",
        "is the call's own, or the last one it made.",
        '"""',
        "",
        "from __future__ import annotations",
        "",
        "from typing import TYPE_CHECKING",
        "",
        "from .._response import async_raw_view",
        "",
        "if TYPE_CHECKING:",
        *(f"    from .{view.module} import {view.resource}" for view in found),
        "",
        f"__all__ = [{', '.join(repr(view.name).replace(chr(39), chr(34)) for view in found)}]",
    ]
    for view in found:
        lines += [
            "",
            "",
            f"class {view.name}:",
            f'    """``client.{view.module}.with_raw_response``: {_names(view)}."""',
            "",
            f"    def __init__(self, {view.module}: {view.resource}) -> None:",
            *(f"        self.{name} = async_raw_view({view.module}.{method})" for name, method in view.twins),
        ]
    return _formatted("\n".join(lines) + "\n", TARGET)


def _formatted(source: str, path: Path) -> str:
    result = subprocess.run(
        ["ruff", "format", "--quiet", "--stdin-filename", str(path.relative_to(ROOT)), "-"],
        input=source,
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    if result.returncode != 0:
        raise SystemExit(f"raw_views: ruff format failed:\n{result.stderr}")
    return result.stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail if raw.py is out of date")
    args = parser.parse_args(argv)
    wanted = text(views())
    current = TARGET.read_text(encoding="utf-8") if TARGET.exists() else None
    if args.check:
        sync_current = SYNC_TARGET.read_text(encoding="utf-8") if SYNC_TARGET.exists() else None
        stale = [p for p, ok in [(TARGET, current == wanted), (SYNC_TARGET, sync_current == _sync(wanted))] if not ok]
        for path in stale:
            print(f"raw_views: {path.relative_to(ROOT)} is not what scripts/raw_views.py writes", file=sys.stderr)
        if stale:
            print("raw_views: run scripts/raw_views.py (never edit raw.py)", file=sys.stderr)
            return 1
        print("raw_views --check: each raw.py matches the @single_request methods")
        return 0
    if current != wanted:
        TARGET.write_text(wanted, encoding="utf-8")
    SYNC_TARGET.write_text(_sync(wanted), encoding="utf-8")
    print(f"raw_views: wrote {TARGET.relative_to(ROOT)} and {SYNC_TARGET.relative_to(ROOT)}")
    return 0


def _sync(async_text: str) -> str:
    """_sync/raw.py as scripts/unasync.py writes it from ``async_text``."""
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "raw.py"
        source.write_text(async_text, encoding="utf-8")
        return render(source, SYNC_TARGET, set())


if __name__ == "__main__":
    sys.exit(main())
