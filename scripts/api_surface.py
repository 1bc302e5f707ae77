"""The Python surface of siliconflow_batch, recorded at each release and compared with griffe.

griffe finds breaking changes between two versions of a package (removed names, changed signatures and
types). The surface of the last release is kept in release/api-surface.json, so the check needs no git
history: a breaking change without a major version bump (minor while the version is 0.x) fails.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import griffe

from siliconflow_batch._lazy import declared_names, public_order

ROOT = Path(__file__).resolve().parent.parent
RECORD = ROOT / "release" / "api-surface.json"
PACKAGES = ("siliconflow_batch", "siliconflow_batch_generated")
_ANSI = re.compile(r"\x1b\[[0-9;]*m")

__all__ = ["RECORD", "breaking_changes", "dump_surface", "is_major_bump", "load_recorded", "load_surface"]


def load_surface(root: Path = ROOT) -> griffe.Module:
    """The current public surface of siliconflow_batch, statically analysed from the source tree."""
    loader = griffe.GriffeLoader(search_paths=[str(root / "overlay"), str(root / "generated")])
    for package in PACKAGES:
        loader.load(package)
    module: griffe.Module = loader.modules_collection["siliconflow_batch"]
    # The package's __all__ is built at run time from its TYPE_CHECKING block, which griffe does not evaluate:
    # read the block the way the package does.
    declared = declared_names(str(root / "overlay" / "siliconflow_batch" / "__init__.py"))
    exports: list[str | griffe.ExprName] = [*public_order([*declared, "__version__"])]
    module.exports = exports
    loader.resolve_aliases(external=False)
    return module


def dump_surface(version: str, root: Path = ROOT) -> str:
    """The surface of both packages as JSON, with the version it belongs to."""
    module = load_surface(root)
    collection = module.modules_collection
    # Paths relative to the repository, so the record is the same on every machine.
    packages = {name: json.loads(collection[name].as_json().replace(f"{root}/", "")) for name in PACKAGES}
    return json.dumps({"version": version, "packages": packages}, sort_keys=True, separators=(",", ":")) + "\n"


def load_recorded(path: Path = RECORD) -> tuple[str, griffe.Module]:
    """The version and the surface recorded at the last release."""
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    collection = griffe.ModulesCollection()
    for name, tree in data["packages"].items():
        module = json.loads(json.dumps(tree), object_hook=griffe.json_decoder)
        # griffe's JSON decoder leaves a module without its collection, which resolving aliases needs.
        module._modules_collection = collection
        collection.set_member(name, module)
    surface: griffe.Module = collection["siliconflow_batch"]
    return str(data["version"]), surface


def breaking_changes(old: griffe.Module, new: griffe.Module) -> list[str]:
    """Every change from ``old`` to ``new`` that can break a caller, explained in one line each."""
    found = griffe.find_breaking_changes(old, new)
    kept = [_ANSI.sub("", breakage.explain()) for breakage in found if not _same_default(breakage, new)]
    return kept + _changed_defaults(old, new)


# The package's defaults live in one private module, which griffe does not compare: a parameter whose default
# names one of them keeps its text when the value changes. Their values are compared here (by name, wherever
# the old surface kept them).
DEFAULTS = "siliconflow_batch._defaults"
_OLD_HOMES = (DEFAULTS, "siliconflow_batch._http")


def _changed_defaults(old: griffe.Module, new: griffe.Module) -> list[str]:
    """A line for each default of the package whose value differs from the old surface's."""
    try:
        now = new.modules_collection[DEFAULTS].members
    except KeyError:
        return []
    before: dict[str, str] = {}
    for home in reversed(_OLD_HOMES):
        try:
            members = old.modules_collection[home].members
        except KeyError:
            continue
        before |= {name: str(m.value) for name, m in members.items() if isinstance(m, griffe.Attribute)}
    return [
        f"{DEFAULTS}.{name}: default value was changed: {before[name]} -> {member.value}"
        for name, member in now.items()
        if not name.startswith("_")
        and isinstance(member, griffe.Attribute)
        and before.get(name, str(member.value)) != str(member.value)
    ]


def _same_default(breakage: griffe.Breakage, new: griffe.Module) -> bool:
    """A default that became a named constant of the same value (one home for each default) breaks nobody."""
    if not isinstance(breakage, griffe.ParameterChangedDefaultBreakage):
        return False
    default = breakage.new_value.default
    if not isinstance(default, griffe.ExprName):
        return False
    try:
        target = new.modules_collection[default.canonical_path]
    except (KeyError, ValueError):
        return False
    return isinstance(target, griffe.Attribute) and str(target.value) == str(breakage.old_value.default)


def _parts(version: str) -> tuple[int, int, int]:
    major, minor, patch = (int(p) for p in version.split("."))
    return major, minor, patch


def is_major_bump(old: str, new: str) -> bool:
    """Whether ``new`` is a breaking-change bump from ``old``: major, or minor while the major is 0."""
    before, after = _parts(old), _parts(new)
    if before[0] == 0:
        return after[0] > 0 or after[1] > before[1]
    return after[0] > before[0]
