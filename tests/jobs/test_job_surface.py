"""The jobs' public names: JobStatus, the errors (they pickle, with no key), the async mirror, the records."""

from __future__ import annotations

import inspect
import json
import pickle
from decimal import Decimal
from pathlib import Path

import pytest

import siliconflow_batch as sf
from siliconflow_batch.pricing import ModelUsage
from siliconflow_batch.resources import AsyncJobs, Jobs
from siliconflow_batch.testing import Emulator

from fakes import run
from job_support import client_for, write_requests


def test_job_status_adds_up_and_reads_well() -> None:
    status = sf.JobStatus(
        job_id="eval-42",
        total=10,
        succeeded=7,
        failed=1,
        pending=2,
        batches={"completed": 1, "in_progress": 1},
        attempts={1: 6, 2: 3, 3: 1},
        usage={"m": ModelUsage(requests=7, input_tokens=700, output_tokens=70)},
        cost=Decimal("0.0021"),
    )
    assert not status.done
    assert status.resubmitted == 4
    assert (status.input_tokens, status.output_tokens) == (700, 70)
    assert str(status) == (
        "job eval-42: 8/10 done (7 ok, 1 failed, 2 pending); batches: 1 completed, 1 in_progress; "
        "resubmitted 4; tokens 700 in / 70 out; cost 0.0021 yuan"
    )
    data = status.to_dict()
    assert data["requests"] == {"total": 10, "succeeded": 7, "failed": 1, "pending": 2, "budget": 0}
    assert data["attempts"] == {"1": 6, "2": 3, "3": 1}
    assert data["cost"] == "0.0021"
    assert data["usage"] == {"m": {"requests": 7, "input_tokens": 700, "output_tokens": 70}}
    assert json.loads(status.to_json()) == data
    with pytest.raises(AttributeError):
        status.total = 3  # type: ignore[misc]
    assert sf.JobStatus("j", 1, 1, 0, 0).done


@pytest.mark.parametrize(
    "error",
    [
        sf.JobLockedError("another process is working on the job in d"),
        sf.JobInputMismatchError("the job in d was started with another input"),
        sf.JobNotFinishedError("job j has 3 requests still pending"),
        sf.InsufficientBalanceError("the recharged balance is 0.00"),
    ],
)
def test_job_errors_pickle_and_are_job_errors(error: sf.JobError) -> None:
    restored = pickle.loads(pickle.dumps(error))
    assert type(restored) is type(error)
    assert str(restored) == str(error)
    assert isinstance(restored, sf.JobError)
    assert isinstance(restored, sf.SiliconFlowError)


def test_a_job_holds_no_key_anywhere(mode: str, emulator: Emulator, tmp_path: Path) -> None:
    client = client_for(mode, emulator)
    job = run(client.jobs.run(write_requests(tmp_path / "in.jsonl", 5), job_dir=tmp_path / "job", poll_interval=5))
    assert emulator.api_key not in repr(job)
    for path in (tmp_path / "job").rglob("*"):
        if path.is_file():
            assert emulator.api_key.encode() not in path.read_bytes(), path
    job.close()


@pytest.mark.parametrize(
    ("sync", "async_", "names"),
    [
        (Jobs, AsyncJobs, ["run", "submit", "open", "recover"]),
        (sf.Job, sf.AsyncJob, ["status", "results", "write_results", "wait", "cancel", "close"]),
    ],
)
def test_the_async_jobs_mirror_the_sync_ones(sync: type, async_: type, names: list[str]) -> None:
    for name in names:
        sync_method, async_method = getattr(sync, name), getattr(async_, name)
        assert inspect.signature(sync_method).parameters.keys() == inspect.signature(async_method).parameters.keys()
        assert (sync_method.__doc__ or "").strip(), name
        if name != "close":
            assert inspect.iscoroutinefunction(async_method) or inspect.isasyncgenfunction(async_method), name


def test_a_single_batchs_results_say_one_attempt() -> None:
    result = sf.BatchResult("r1", {"status_code": 200, "body": {"choices": []}}, None)
    assert result.attempts == 1
    assert result.to_dict()["attempts"] == 1
    assert result.to_dict()["ok"] is True
