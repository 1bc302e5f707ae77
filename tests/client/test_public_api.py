"""The public surface: the issue's names exist, are documented, and the async client mirrors the sync one."""

from __future__ import annotations

import inspect
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import siliconflow_batch as sf
from siliconflow_batch.resources import (
    Account,
    AsyncAccount,
    AsyncBatches,
    AsyncFiles,
    AsyncRawAccount,
    AsyncRawBatches,
    AsyncRawFiles,
    Batches,
    Files,
    RawAccount,
    RawBatches,
    RawFiles,
)

PUBLIC = [name for name in sf.__all__ if not name.startswith("__")]


def _documented_members(cls: type) -> list[tuple[str, Any]]:
    return [
        (name, member)
        for name, member in vars(cls).items()
        if not name.startswith("_") and (inspect.isfunction(member) or isinstance(member, property))
    ]


@pytest.mark.parametrize("name", PUBLIC)
def test_every_public_name_is_documented(name: str) -> None:
    obj = getattr(sf, name)
    if inspect.isclass(obj) or inspect.isfunction(obj):
        assert (obj.__doc__ or "").strip(), f"{name} has no docstring"
    if inspect.isclass(obj) and obj.__module__.startswith("siliconflow_batch."):
        for member_name, member in _documented_members(obj):
            assert (member.__doc__ or "").strip(), f"{name}.{member_name} has no docstring"


@pytest.mark.parametrize(
    "cls",
    [
        Files,
        AsyncFiles,
        Batches,
        AsyncBatches,
        Account,
        AsyncAccount,
        RawFiles,
        AsyncRawFiles,
        RawBatches,
        AsyncRawBatches,
        RawAccount,
        AsyncRawAccount,
    ],
)
def test_resource_methods_are_documented(cls: type) -> None:
    for name, member in _documented_members(cls):
        assert (member.__doc__ or "").strip(), f"{cls.__name__}.{name} has no docstring"


@pytest.mark.parametrize(
    ("sync", "async_", "names"),
    [
        (Files, AsyncFiles, ["upload", "list", "download"]),
        (Batches, AsyncBatches, ["create", "retrieve", "list", "cancel", "wait", "wait_many", "results"]),
        (Account, AsyncAccount, ["retrieve"]),
    ],
)
def test_async_resources_mirror_the_sync_ones(sync: type, async_: type, names: list[str]) -> None:
    for name in names:
        sync_params = inspect.signature(getattr(sync, name)).parameters
        async_params = inspect.signature(getattr(async_, name)).parameters
        assert set(sync_params) <= set(async_params), name
        method = getattr(async_, name)
        is_async = inspect.iscoroutinefunction(method) or inspect.isasyncgenfunction(method)
        assert is_async or (name == "list" and sync is Batches), name


def test_issue_example_names_exist() -> None:
    client = sf.SiliconFlow(api_key="k")
    for path in [
        "files.upload",
        "files.list",
        "files.download",
        "batches.create",
        "batches.retrieve",
        "batches.list",
        "batches.wait",
        "batches.results",
        "batches.cancel",
        "jobs.run",
        "jobs.submit",
        "jobs.open",
        "jobs.recover",
        "account.retrieve",
    ]:
        resource, method = path.split(".")
        assert callable(getattr(getattr(client, resource), method)), path
    assert hasattr(sf.BatchPager, "iter_pages")
    assert hasattr(sf.AsyncBatchPager, "iter_pages")


def test_generated_package_is_not_needed_for_the_workflow() -> None:
    # Everything the README's workflow touches is importable from siliconflow_batch itself.
    for name in ["Batch", "BatchStatus", "BatchResult", "FileObject", "APIStatusError", "validate_requests"]:
        assert name in sf.__all__
    assert sf.Batch.__module__ == "siliconflow_batch.types"


def test_a_new_client_loads_neither_the_models_nor_attrs_nor_the_job_engine() -> None:
    # Import cost: the generated models (and attrs) load with the first request, the job engine with client.jobs.
    code = """
import sys
import siliconflow_batch as sf
client = sf.SiliconFlow(api_key="k")
heavy = ["attrs", "sqlite3", "siliconflow_batch_generated.models.batch", "siliconflow_batch._jobs._sync.engine"]
print(sorted(name for name in heavy if name in sys.modules))
client.jobs
print("siliconflow_batch._jobs._sync.engine" in sys.modules)
import siliconflow_batch.types  # the generated models are attrs classes: attrs loads with them
print("attrs" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.split("\n")[:3] == ["[]", "True", "True"], result.stdout + result.stderr


def test_the_type_checking_block_is_the_one_list_of_public_names() -> None:
    # What type checkers see (every import in the package's TYPE_CHECKING block, read by ast) is exactly what
    # the package loads on first use and lists in __all__: a name added in another form would be missing here.
    import ast

    from siliconflow_batch._lazy import declared_names

    assert sf.__file__ is not None
    tree = ast.parse(Path(sf.__file__).read_text(encoding="utf-8"))
    block = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    seen = {
        alias.asname or alias.name: ("." * node.level) + (node.module or "")
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    assert len(seen) == sum(len(node.names) for node in block.body if isinstance(node, ast.ImportFrom))
    assert all(isinstance(node, ast.ImportFrom) for node in block.body)
    declared = declared_names(sf.__file__)
    assert declared.keys() == seen.keys()
    assert sorted(sf.__all__) == sorted([*seen, "__version__"])
    for name in seen:
        assert getattr(sf, name) is not None
    assert declared["requests"] == ".requests"
    assert sf.requests.__name__ == "siliconflow_batch.requests"


def test_public_order_is_constants_then_classes_then_the_rest() -> None:
    from siliconflow_batch._lazy import public_order

    assert public_order(["tables", "Batch", "DEFAULT_TIMEOUT", "APIError", "__version__"]) == [
        "DEFAULT_TIMEOUT",
        "APIError",
        "Batch",
        "__version__",
        "tables",
    ]
