"""Write api.md: every public class, function, method, parameter, return type and exception, from the code.

griffe reads the source; ``--check`` fails when the committed api.md is out of date.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Iterable
from pathlib import Path

import griffe

from api_surface import load_surface

ROOT = Path(__file__).resolve().parent.parent
API_MD = ROOT / "api.md"
# Modules whose public names (their __all__) are documented, in this order, besides the package's own.
MODULES = (
    "siliconflow_batch.airflow",
    "siliconflow_batch.resources",
    "siliconflow_batch.pricing",
    "siliconflow_batch.requests",
    "siliconflow_batch.structured",
    "siliconflow_batch.tables",
    "siliconflow_batch.testing",
    "siliconflow_batch.types",
)

__all__ = ["main", "render"]


def _target(obj: griffe.Object | griffe.Alias) -> griffe.Object:
    while isinstance(obj, griffe.Alias):
        obj = obj.final_target
    return obj


def _summary(obj: griffe.Object) -> str:
    text = obj.docstring.value.strip() if obj.docstring else ""
    return " ".join(text.split("\n\n")[0].split())


def _signature(function: griffe.Function, *, skip_self: bool) -> str:
    parts: list[str] = []
    star_done = False
    for parameter in function.parameters:
        if skip_self and parameter.name in ("self", "cls") and not parts:
            continue
        kind = parameter.kind
        if kind is griffe.ParameterKind.keyword_only and not star_done:
            parts.append("*")
            star_done = True
        if kind is griffe.ParameterKind.var_positional:
            star_done = True
        prefix = (
            "*"
            if kind is griffe.ParameterKind.var_positional
            else "**"
            if kind is griffe.ParameterKind.var_keyword
            else ""
        )
        text = prefix + parameter.name
        if parameter.annotation is not None:
            text += f": {parameter.annotation}"
        if parameter.default is not None:
            text += f" = {parameter.default}"
        parts.append(text)
    returns = f" -> {function.returns}" if function.returns is not None else ""
    asynchronous = "async " if "async" in function.labels else ""
    return f"{asynchronous}{function.name}({', '.join(parts)}){returns}"


def _members(cls: griffe.Class) -> Iterable[griffe.Object]:
    # Inherited members too (a Batch's fields come from the generated model), each class's in source order.
    own = list(cls.members.items())
    inherited = [(n, m) for n, m in cls.inherited_members.items() if n not in cls.members]
    for name, member in inherited + sorted(own, key=lambda item: getattr(_target(item[1]), "lineno", 0) or 0):
        if name.startswith("_") and name not in ("__init__",):
            continue
        target = _target(member)
        if name == "__init__" and isinstance(target, griffe.Function) and len(target.parameters) <= 1:
            continue
        yield target


def _class(cls: griffe.Class, out: list[str]) -> None:
    bases = ", ".join(str(b) for b in cls.bases)
    out.append(f"### class `{cls.name}`" + (f" ({bases})" if bases else ""))
    out.append("")
    if summary := _summary(cls):
        out += [summary, ""]
    for member in _members(cls):
        if isinstance(member, griffe.Function):
            out.append(
                f"- `{_signature(member, skip_self=True)}`" + (f": {_summary(member)}" if _summary(member) else "")
            )
        elif isinstance(member, griffe.Attribute):
            kind = "property" if "property" in member.labels else "attribute"
            annotation = f": {member.annotation}" if member.annotation is not None else ""
            out.append(f"- {kind} `{member.name}{annotation}`" + (f": {_summary(member)}" if _summary(member) else ""))
    out.append("")


def _object(name: str, obj: griffe.Object, out: list[str]) -> None:
    if isinstance(obj, griffe.Class):
        _class(obj, out)
    elif isinstance(obj, griffe.Function):
        out += [f"### `{_signature(obj, skip_self=False)}`", ""]
        if summary := _summary(obj):
            out += [summary, ""]
    elif isinstance(obj, griffe.Attribute):
        annotation = f": {obj.annotation}" if obj.annotation is not None else ""
        value = f" = {obj.value}" if obj.value is not None and len(str(obj.value)) < 80 else ""
        out += [f"### `{name}{annotation}{value}`", ""]
        if summary := _summary(obj):
            out += [summary, ""]


def _section(title: str, module: griffe.Module, names: Iterable[str], out: list[str], seen: set[str]) -> None:
    out += [f"## {title}", ""]
    for name in names:
        if name.startswith("__"):
            continue
        target = _target(module[name])
        if target.path in seen:
            out += [f"- `{name}`: as above", ""]
            continue
        seen.add(target.path)
        _object(name, target, out)


def render() -> str:
    """The text of api.md for the current source tree."""
    package = load_surface(ROOT)
    collection = package.modules_collection
    out = [
        "# API reference",
        "",
        "Generated from the code by `scripts/api_reference.py` (griffe); `scripts/test` fails when it is out of",
        "date. Every resource method also takes the per-call options (`timeout`, `extra_headers`, `extra_query`,",
        "`extra_body`): see `RequestOptions`.",
        "",
    ]
    names = [str(n) for n in package.exports or [] if str(n) in package.all_members]  # not the PEP 562 ones
    errors = [n for n in names if _is_error(_target(package[n]))]
    others = [n for n in names if n not in errors]
    seen: set[str] = set()
    _section("siliconflow_batch", package, others, out, seen)
    _section("Errors", package, errors, out, seen)
    for dotted in MODULES:
        module = collection[dotted]
        _section(f"`{dotted}`", module, [str(n) for n in module.exports or []], out, seen)
    options = collection["siliconflow_batch._options"]
    _section("Per-call options (`siliconflow_batch._options`)", options, ["RequestOptions", "PollOptions"], out, seen)
    return "\n".join(out).rstrip() + "\n"


def _is_error(obj: griffe.Object) -> bool:
    return isinstance(obj, griffe.Class) and (obj.name.endswith("Error") or obj.name == "Problem")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true", help="change nothing; fail if api.md is out of date")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if not API_MD.exists() or API_MD.read_text(encoding="utf-8") != text:
            print("api_reference: api.md is out of date: run scripts/api_reference.py", file=sys.stderr)
            return 1
        print("api_reference --check: api.md is current")
        return 0
    API_MD.write_text(text, encoding="utf-8")
    print(f"api_reference: wrote api.md ({text.count(chr(10))} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
