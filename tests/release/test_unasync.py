"""scripts/unasync.py: the sync code is the async code with its tokens substituted, and --check holds them equal."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from helpers import ROOT
from unasync import FOLDERS, SUBS, unasync_text


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("async def f(x: AsyncIterator[int]) -> None:", "def f(x: Iterator[int]) -> None:"),
        ("        await response.aclose()", "        response.close()"),
        ("    async with gate:", "    with gate:"),
        ("    async for chunk in r.aiter_bytes():", "    for chunk in r.iter_bytes():"),
        ("fetch: Callable[[str], Awaitable[BatchPage]]", "fetch: Callable[[str], BatchPage]"),
        ("class AsyncBatches(AsyncRawBatches):", "class Batches(RawBatches):"),
        ("await _http.async_sleep(delay)", "_http.sleep(delay)"),
        ("already read, aread()", "already read, read()"),  # whole tokens only
        ("MyAsyncThing and asyncio", "MyAsyncThing and asyncio"),
        ("from .._jobs._async.job import AsyncJob", "from .._jobs._sync.job import Job"),  # the twin folder
    ],
)
def test_substitutions(source: str, expected: str) -> None:
    assert unasync_text(source, set()) == expected


def test_every_substitution_is_used_by_the_sources() -> None:
    used: set[int] = set()
    for source_dir, _ in FOLDERS:
        for path in source_dir.glob("*.py"):
            unasync_text(path.read_text(encoding="utf-8"), used)
    assert used == set(range(len(SUBS)))


def _tree(tmp_path: Path) -> Path:
    (tmp_path / "scripts").mkdir()
    shutil.copy(ROOT / "scripts" / "unasync.py", tmp_path / "scripts")
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    shutil.copytree(ROOT / "overlay", tmp_path / "overlay", ignore=shutil.ignore_patterns("__pycache__"))
    return tmp_path


def _check(tree: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, str(tree / "scripts" / "unasync.py"), "--check"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={"PATH": str(Path(sys.executable).parent)},
    )


def test_check_passes_on_this_tree_and_fails_on_a_hand_edit_of_the_sync_code(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    assert _check(tree).returncode == 0
    sync = tree / "overlay" / "siliconflow_batch" / "_sync" / "batches.py"
    sync.write_text(sync.read_text().replace("LOOKUP_LIMIT", "LOOKUP_LIMIT + 1", 1))
    result = _check(tree)
    assert result.returncode == 1
    assert "overlay/siliconflow_batch/_sync/batches.py is not what scripts/unasync.py writes" in result.stderr


def test_check_fails_on_a_sync_file_without_an_async_source(tmp_path: Path) -> None:
    tree = _tree(tmp_path)
    (tree / "overlay" / "siliconflow_batch" / "_sync" / "extra.py").write_text('"""Hand-written."""\n')
    result = _check(tree)
    assert result.returncode == 1
    assert "_sync/extra.py has no source in _async/" in result.stderr
