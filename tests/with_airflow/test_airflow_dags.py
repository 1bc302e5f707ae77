"""The operator in real DAG runs (Airflow's ``dag.test()``: the task, its deferral, the trigger run in line, the
retries) against the emulator's HTTP server on 127.0.0.1."""

from __future__ import annotations

import importlib.util
import json
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from siliconflow_batch.testing import Emulator, RunningServer

from job_support import batches_per_shard_attempt, write_requests

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]

CONN_ID = "siliconflow_test"

# A DAG file as a team writes one, plus a subclass that records each call (and, asked to, dies once after the
# trigger fired, as a worker killed midway would; with lose_dir, the retry runs where the job directory is not).
DAG_FILE = """
# An Airflow DAG written by tests/airflow (the DagBag only reads files that name airflow and a dag).
import datetime
import json
import shutil
from pathlib import Path

from airflow.sdk import DAG

from siliconflow_batch.airflow import SiliconFlowJobOperator

LOG = Path({log!r})


class Recorded(SiliconFlowJobOperator):
    def execute(self, context):
        with LOG.open("a") as log:
            log.write(json.dumps({{"call": "execute", "try": context["ti"].try_number}}) + "\\n")
        return super().execute(context)

    def execute_complete(self, context, event=None):
        try_number = context["ti"].try_number
        with LOG.open("a") as log:
            log.write(json.dumps({{"call": "resume", "try": try_number, "event": event}}) + "\\n")
        if {die_once!r} and try_number == 1:
            if {lose_dir!r}:
                shutil.rmtree(Path(self.job_dir) / event["job_id"])
            raise RuntimeError("the worker died after the trigger fired")
        return super().execute_complete(context, event)


with DAG({dag_id!r}, schedule=None, start_date=datetime.datetime(2025, 1, 1), catchup=False) as dag:
    Recorded(
        task_id="batch",
        input={input!r},
        output={output!r},
        job_dir={job_dir!r},
        siliconflow_conn_id={conn_id!r},
        deferrable={deferrable!r},
        poll_interval=0.05,
        retries=1,
        retry_delay=datetime.timedelta(0),
        **{options!r},
    )
"""


@pytest.fixture
def emulator() -> Emulator:
    """The emulator on real time, each stage of a batch 50 ms (the trigger polls every 50 ms)."""
    return Emulator(stage_seconds=0.05)


@pytest.fixture
def server(emulator: Emulator, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningServer]:
    """The emulator on a loopback port, named by the Airflow connection ``siliconflow_test``."""
    with emulator.serve() as running:
        connection = {"conn_type": "siliconflow", "host": running.url, "password": emulator.api_key}
        monkeypatch.setenv(f"AIRFLOW_CONN_{CONN_ID.upper()}", json.dumps(connection))
        yield running


def run_dag(dags: Path, tmp_path: Path, dag_id: str, **settings: Any) -> tuple[str, dict[str, Any], list[Any]]:
    """Write the DAG file, run it with ``dag.test()``; its state, the task's return value (XCom) and the calls."""
    from airflow.models.xcom import XComModel
    from airflow.utils.session import create_session

    log = tmp_path / "calls.jsonl"
    values = {"die_once": False, "lose_dir": False, "deferrable": True, "output": None, "options": {}, **settings}
    path = dags / f"{dag_id}.py"
    path.write_text(textwrap.dedent(DAG_FILE.format(dag_id=dag_id, log=str(log), conn_id=CONN_ID, **values)))
    spec = importlib.util.spec_from_file_location(f"sfb_test_dag_{dag_id}", path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    run = module.dag.test()
    with create_session() as session:
        row = session.scalars(
            XComModel.get_many(run_id=run.run_id, key="return_value", task_ids="batch", dag_ids=dag_id)
        ).first()
        summary = XComModel.deserialize_value(row) if row is not None else {}
    calls = [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []
    return str(run.state), summary, calls


def job_batches(emulator: Emulator, job_id: str) -> list[dict[str, Any]]:
    return [b for b in emulator.batches() if (b.get("metadata") or {}).get("sf_job") == job_id]


def read_lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


@pytest.mark.parametrize("lose_dir", [False, True], ids=["same-worker", "another-worker"])
def test_a_retry_after_the_trigger_fired_creates_no_new_batch(
    airflow_db: Path, server: RunningServer, emulator: Emulator, tmp_path: Path, lose_dir: bool
) -> None:
    source = write_requests(tmp_path / "in.jsonl", 5)
    output = tmp_path / "out" / "results.jsonl"
    state, summary, calls = run_dag(
        airflow_db,
        tmp_path,
        f"retry_{int(lose_dir)}",
        input=str(source),
        output=str(output),
        job_dir=str(tmp_path / "jobs"),
        die_once=True,
        lose_dir=lose_dir,
        options={"max_shard_lines": 3},
    )
    assert state == "success"
    assert [(c["call"], c["try"]) for c in calls][:3] == [("execute", 1), ("resume", 1), ("execute", 2)]
    job_id = summary["job_id"]
    assert calls[1]["event"]["status"] == "ended"
    assert calls[1]["event"]["job_id"] == job_id
    # The second try attached to the first try's two batches: no batch was created again.
    assert len(job_batches(emulator, job_id)) == 2
    assert set(batches_per_shard_attempt(emulator, job_id).values()) == {1}
    assert summary == {
        "job_id": job_id,
        "requests": 5,
        "succeeded": 5,
        "failed": 0,
        "resubmitted": 0,
        "batches": 2,
        "cost": summary["cost"],
        "output": str(output),
    }
    assert job_id.startswith(f"retry_{int(lose_dir)}.batch.manual__")
    assert [line["custom_id"] for line in read_lines(output)] == [f"r{i}" for i in range(5)]
    assert (tmp_path / "jobs" / job_id).is_dir()  # rebuilt where it was lost


def test_an_expired_batch_is_resubmitted_in_a_second_deferral(
    airflow_db: Path, server: RunningServer, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.faults.expire_next(times=1, fraction=0.5)  # the first batch ends expired, half of it done
    source = write_requests(tmp_path / "in.jsonl", 4)
    output = tmp_path / "results.jsonl"
    state, summary, calls = run_dag(
        airflow_db, tmp_path, "resubmit", input=str(source), output=str(output), job_dir=str(tmp_path / "jobs")
    )
    assert state == "success"
    resumes = [c for c in calls if c["call"] == "resume"]
    assert [c["call"] for c in calls] == ["execute", "resume", "resume"]  # deferred twice, one try
    first, second = (c["event"] for c in resumes)
    assert list(first["statuses"].values()) == ["expired"]
    assert len(second["batch_ids"]) == 1
    assert second["batch_ids"] != first["batch_ids"]
    assert summary["requests"] == summary["succeeded"] == 4
    assert summary["failed"] == 0
    assert summary["resubmitted"] == 2
    assert summary["batches"] == 2
    assert len(job_batches(emulator, summary["job_id"])) == 2
    results = read_lines(output)
    assert [r["custom_id"] for r in results] == ["r0", "r1", "r2", "r3"]
    assert sorted(r["attempts"] for r in results) == [1, 1, 2, 2]


def test_result_files_that_404_are_awaited_in_the_triggerer_not_the_worker(
    airflow_db: Path, server: RunningServer, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.faults.result_not_found(times=2)  # the output file answers 404 twice after the batch ends
    source = write_requests(tmp_path / "in.jsonl", 3)
    output = tmp_path / "results.jsonl"
    state, summary, calls = run_dag(
        airflow_db, tmp_path, "late_files", input=str(source), output=str(output), job_dir=str(tmp_path / "jobs")
    )
    assert state == "success"
    resumes = [c["event"] for c in calls if c["call"] == "resume"]
    # Each 404 is one round and one deferral with no batch to watch: the worker never waited for the file.
    assert sum(not event["batch_ids"] for event in resumes) == 2
    assert resumes[-1]["batch_ids"] == []
    assert emulator.faults.injected["result_not_found"] == 2
    assert summary["succeeded"] == 3
    assert summary["resubmitted"] == 0  # the grace, kept in the job directory across the deferrals, did not run out
    assert [line["custom_id"] for line in read_lines(output)] == ["r0", "r1", "r2"]


def test_fsspec_urls_and_the_worker_that_waits(
    airflow_db: Path, server: RunningServer, emulator: Emulator, tmp_path: Path
) -> None:
    import fsspec

    source = write_requests(tmp_path / "in.jsonl", 3)
    with fsspec.open("memory://sfb-test/in.jsonl", "wb") as remote:
        remote.write(source.read_bytes())
    state, summary, calls = run_dag(
        airflow_db,
        tmp_path,
        "fsspec_wait",
        input="memory://sfb-test/in.jsonl",
        output="memory://sfb-test/out/results.jsonl",
        job_dir=str(tmp_path / "jobs"),
        deferrable=False,
    )
    assert state == "success"
    assert [c["call"] for c in calls] == ["execute"]  # no deferral: the worker waited
    assert summary["succeeded"] == 3
    assert summary["output"] == "memory://sfb-test/out/results.jsonl"
    with fsspec.open("memory://sfb-test/out/results.jsonl", "rt") as results:
        assert [json.loads(line)["custom_id"] for line in results] == ["r0", "r1", "r2"]
    assert (tmp_path / "jobs" / f"{summary['job_id']}.input.jsonl").read_bytes() == source.read_bytes()
