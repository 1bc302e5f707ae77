"""``results --output`` and ``job results --output``: results that fail midway leave the old file as it was.

The file is written beside its destination and renamed once whole: a failure part-way through (here, the
connection breaking after three results) must leave the previous file untouched and no temporary file behind.
"""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

import siliconflow_batch as sf
from siliconflow_batch import Job, cli
from siliconflow_batch.resources import Batches
from siliconflow_batch.testing import VirtualClock

from cli_support import Run, write_requests

OLD = b"the old results\n"


def sfb(url: str, *args: str) -> Run:
    stdout, stderr = io.StringIO(), io.StringIO()
    code = cli.main([*args, "--base-url", url, "--api-key", "sk-emulator"], stdout=stdout, stderr=stderr)
    return Run(code, stdout.getvalue(), stderr.getvalue())


def _breaking_after_three(real: Any) -> Any:
    """``real`` (a method returning an iterator of results), made to fail after its third result."""

    def broken(self: Any, *args: Any, **kwargs: Any) -> Iterator[Any]:
        for given, result in enumerate(real(self, *args, **kwargs)):
            if given == 3:
                raise sf.APIConnectionError("the connection broke midway")
            yield result

    return broken


def _old_file(tmp_path: Path) -> tuple[Path, Path]:
    folder = tmp_path / "out"
    folder.mkdir()
    target = folder / "results.jsonl"
    target.write_bytes(OLD)
    return folder, target


def test_results_output_that_fails_midway_leaves_the_old_file_and_no_temporary_file(
    url: str, tmp_path: Path, clock: VirtualClock, monkeypatch: pytest.MonkeyPatch
) -> None:
    batch_id = sfb(url, "submit", str(write_requests(tmp_path / "in.jsonl")), "--json").json()["id"]
    clock.now += 100  # the emulated batch has completed
    folder, target = _old_file(tmp_path)
    monkeypatch.setattr(Batches, "results", _breaking_after_three(Batches.results))
    failed = sfb(url, "results", batch_id, "--output", str(target))
    assert failed.code == 1
    assert "the connection broke midway" in failed.err
    assert target.read_bytes() == OLD
    assert list(folder.iterdir()) == [target]

    monkeypatch.undo()  # the same command once the results come whole
    assert sfb(url, "results", batch_id, "--output", str(target)).code == 0
    assert len(target.read_text().splitlines()) == 6
    assert list(folder.iterdir()) == [target]


def test_job_results_output_that_fails_midway_leaves_the_old_file_and_no_temporary_file(
    url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    job_dir = str(tmp_path / "job")
    ran = sfb(url, "run", str(write_requests(tmp_path / "in.jsonl")), "--job-dir", job_dir, "--poll-interval", "5")
    assert ran.code == 0, ran.err
    folder, target = _old_file(tmp_path)
    monkeypatch.setattr(Job, "_merged_lines", _breaking_after_three(Job._merged_lines))
    failed = sfb(url, "job", "results", job_dir, "--output", str(target))
    assert failed.code == 1
    assert "the connection broke midway" in failed.err
    assert target.read_bytes() == OLD
    assert list(folder.iterdir()) == [target]

    monkeypatch.undo()
    saved = sfb(url, "job", "results", job_dir, "--output", str(target), "--json")
    assert saved.json() == {"results": 6, "path": str(target)}
    assert [json.loads(line)["custom_id"] for line in target.read_text().splitlines()] == [f"r{i}" for i in range(6)]
    assert list(folder.iterdir()) == [target]
