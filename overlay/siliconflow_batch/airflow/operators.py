"""``SiliconFlowJobOperator``: one job per task run, deferred while its batches run, kept across retries."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from siliconflow_batch import Batch, Job, JobError, JobOptions, JobStatus, PaginationError, SiliconFlow
from siliconflow_batch._defaults import DEFAULT_RESULT_GRACE, DEFAULT_TRIGGER_POLL_INTERVAL

from . import _io
from .hooks import SiliconFlowHook
from .triggers import SiliconFlowJobTrigger

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["SiliconFlowJobOperator"]

# The metadata key that names a batch's job (README, "Durable"): a worker without the job directory looks in the
# server's batch list for it, to tell a job to rebuild from one to submit.
_JOB_TAG = "sf_job"
_LIST_PAGE = 100
_LIST_PAGES = 10  # how far back (newest first) the list is read for a job's batches: 1,000 batches
_OPTION_NAMES = frozenset(JobOptions.__annotations__)


class SiliconFlowJobOperator(BaseOperator):
    """Run a job (``client.jobs``) over a JSONL input and write its results, one line per request, in order.

    ``input`` and ``output`` are local paths or, with fsspec installed, any fsspec URL (``s3://...``).
    ``job_dir`` is the folder that keeps each run's job directory (default: a folder under the system's
    temporary directory; give a shared or persistent one in production). The job id is derived from the DAG,
    the task, the run (and map index) and the input's SHA-256, so every try of the task attaches to the same
    batches: a retry creates no new batch, and a worker without the job directory rebuilds it from the server
    and the input (``jobs.recover``). The other keyword arguments that :class:`~siliconflow_batch.JobOptions`
    names (``completion_window``, ``replace_model``, ``metadata``, ``max_attempts``, ``max_shard_lines``,
    ``max_shard_bytes``) are the job's settings; the rest go to ``BaseOperator``.

    With ``deferrable`` (the default) the task submits, then waits in the triggerer
    (:class:`SiliconFlowJobTrigger`, polling every ``poll_interval`` seconds); on each wake-up it makes one round
    of the job (``Job.step``: collect what ended, resubmit what may pass), deferring again while batches run, and
    while an ended batch's result files still answer 404 (the grace, ``result_grace`` seconds, is kept in the job
    directory, so it goes on across deferrals). Without it, the worker waits.
    ``timeout`` (seconds, from the task's start) bounds the wait: the task fails, the batches go on, and a retry
    re-attaches. The task's return value (its XCom) is a summary: ``job_id``, ``requests``, ``succeeded``,
    ``failed``, ``resubmitted``, ``batches``, ``cost`` (yuan, as a decimal string, or None) and ``output``.
    With ``fail_on_errors`` the task fails when any request failed (after the output is written).
    """

    template_fields: Sequence[str] = ("input_uri", "output_uri", "job_dir")  # BaseOperator has an `output`

    def __init__(
        self,
        *,
        input: str,
        output: str | None = None,
        job_dir: str | None = None,
        siliconflow_conn_id: str = SiliconFlowHook.default_conn_name,
        deferrable: bool = True,
        poll_interval: float = DEFAULT_TRIGGER_POLL_INTERVAL,
        timeout: float | None = None,
        fail_on_errors: bool = False,
        result_grace: float = DEFAULT_RESULT_GRACE,
        **kwargs: Any,
    ) -> None:
        options = {name: kwargs.pop(name) for name in list(kwargs) if name in _OPTION_NAMES}
        super().__init__(**kwargs)
        self.input_uri: str = input
        self.output_uri: str | None = output
        self.job_dir: str | None = job_dir
        self.siliconflow_conn_id: str = siliconflow_conn_id
        self.deferrable: bool = deferrable
        self.poll_interval: float = poll_interval
        self.timeout: float | None = timeout
        self.fail_on_errors: bool = fail_on_errors
        self.result_grace: float = result_grace
        self.job_options: JobOptions = options  # type: ignore[assignment]  # checked by the job, before sending

    # --- Airflow's entry points ---------------------------------------------------------------------------------

    def execute(self, context: Context) -> dict[str, Any] | None:
        """Submit the job (or attach to the one an earlier try made), then defer, or wait when not deferrable."""
        deadline = None if self.timeout is None else time.time() + self.timeout
        job_id, source = self._input(context["ti"])
        self.log.info("job %s in %s", job_id, self._job_path(job_id))
        with self._hook().get_conn() as client, self._attach(client, job_id, source, ()) as job:
            if not self.deferrable:
                status = job.wait(
                    poll_interval=self.poll_interval, timeout=self.timeout, result_grace=self.result_grace
                )
                return self._finish(job, status)
            status = job.step(result_grace=self.result_grace)
            if status.done:
                return self._finish(job, status)
            running = _running(job)
        self._defer(job_id, running, deadline)
        return None  # never reached: defer raises

    def execute_complete(self, context: Context, event: dict[str, Any] | None = None) -> dict[str, Any] | None:
        """After the trigger fired: collect what ended, resubmit what may pass (and defer again), or finish."""
        if not event or "job_id" not in event:
            raise JobError(f"{self.task_id}: resumed without the trigger's event ({event!r})")
        job_id, deadline = str(event["job_id"]), event.get("deadline")
        if event.get("status") == "error":
            raise JobError(str(event.get("message") or f"job {job_id}: polling failed"))
        if event.get("status") == "timeout":
            raise JobError(
                f"{event.get('message')}; the timeout of {self.timeout} s passed (the batches go on: "
                "a retry of the task attaches to them)"
            )
        batch_ids = list(event.get("batch_ids") or [])
        with self._hook().get_conn() as client, self._reopen(client, job_id, batch_ids) as job:
            status = job.step(result_grace=self.result_grace)
            if status.done:
                return self._finish(job, status)
            running = _running(job)
        self._defer(job_id, running, deadline)
        return None

    # --- the job ------------------------------------------------------------------------------------------------

    def _hook(self) -> SiliconFlowHook:
        return SiliconFlowHook(self.siliconflow_conn_id)

    def _base(self) -> Path:
        base = Path(self.job_dir) if self.job_dir else Path(tempfile.gettempdir()) / "siliconflow-batch-airflow"
        base.mkdir(parents=True, exist_ok=True)
        return base

    def _job_path(self, job_id: str) -> Path:
        return self._base() / job_id

    def _input(self, ti: Any) -> tuple[str, Path]:
        """The job id for this task run and the input as a local file (a URL is copied beside the job directories)."""
        map_index = getattr(ti, "map_index", -1)
        if not _io.is_url(self.input_uri):
            path = _io.local_path(self.input_uri)
            return _io.job_id_for(ti.dag_id, ti.task_id, ti.run_id, map_index, _io.sha256_of(path)), path
        staging = self._base() / f".{ti.task_id}.{time.time_ns()}.input.partial"
        sha = _io.fetch_input(self.input_uri, staging)
        job_id = _io.job_id_for(ti.dag_id, ti.task_id, ti.run_id, map_index, sha)
        kept = self._base() / f"{job_id}.input.jsonl"
        staging.replace(kept)
        return job_id, kept

    def _input_again(self, job_id: str) -> Path:
        """The input of a job begun earlier, checked to be the same (its hash ends the job id)."""
        if _io.is_url(self.input_uri):
            path = self._base() / f"{job_id}.input.jsonl"
            sha = _io.sha256_of(path) if path.is_file() else _io.fetch_input(self.input_uri, path)
        else:
            path = _io.local_path(self.input_uri)
            sha = _io.sha256_of(path)
        if not job_id.endswith("." + sha[:12]):
            raise JobError(
                f"job {job_id}: the input at {self.input_uri} has changed since the job began "
                f"(its SHA-256 begins {sha[:12]}); the job cannot be rebuilt from it"
            )
        return path

    def _attach(self, client: SiliconFlow, job_id: str, source: Path, batch_ids: Sequence[str]) -> Job:
        """The job: resumed from its directory, rebuilt from the server (another worker made it), or submitted."""
        job_dir = self._job_path(job_id)
        try:
            client.jobs.open(job_dir).close()
        except JobError:  # no job there (yet)
            if batch_ids or self._on_server(client, job_id):
                self.log.info("job %s: no job directory here; rebuilding it from the server and the input", job_id)
                return client.jobs.recover(
                    source, job_id=job_id, job_dir=job_dir, batch_ids=batch_ids, **self.job_options
                )
        return client.jobs.submit(source, job_dir=job_dir, job_id=job_id, **self.job_options)

    def _reopen(self, client: SiliconFlow, job_id: str, batch_ids: Sequence[str]) -> Job:
        """The job after a deferral: its directory when this worker has it, else rebuilt (reading the input)."""
        try:
            return client.jobs.open(self._job_path(job_id))
        except JobError:  # another worker, or a lost directory: rebuilt from the server and the input
            return self._attach(client, job_id, self._input_again(job_id), batch_ids)

    def _on_server(self, client: SiliconFlow, job_id: str) -> bool:
        """Whether the server's list (newest first, up to ``_LIST_PAGES`` pages) has a batch of the job."""
        try:
            for pages, page in enumerate(client.batches.list(limit=_LIST_PAGE).iter_pages(), 1):
                if any(_tag(b) == job_id for b in page.data):
                    return True
                if pages >= _LIST_PAGES:
                    break
        except PaginationError:  # a list that does not page (the vendor's): its first page is all there is
            pass
        return False

    def _defer(self, job_id: str, running: list[str], deadline: float | None) -> None:
        if running:
            self.log.info("job %s: deferring while %d batches run", job_id, len(running))
        else:
            self.log.info("job %s: deferring while result files are awaited", job_id)
        self.defer(
            trigger=SiliconFlowJobTrigger(
                job_id=job_id,
                batch_ids=running,
                siliconflow_conn_id=self.siliconflow_conn_id,
                poll_interval=self.poll_interval,
                deadline=deadline,
            ),
            method_name="execute_complete",
        )

    def _finish(self, job: Job, status: JobStatus) -> dict[str, Any]:
        """Write the output and return the summary (failing after the write with ``fail_on_errors``)."""
        if self.output_uri:
            if _io.is_url(self.output_uri):
                local = self._base() / f"{job.id}.output.jsonl"
                job.write_results(local)
                _io.upload_output(local, self.output_uri)
            else:
                target = _io.local_path(self.output_uri)
                target.parent.mkdir(parents=True, exist_ok=True)
                job.write_results(target)
        summary = {
            "job_id": job.id,
            "requests": status.total,
            "succeeded": status.succeeded,
            "failed": status.failed,
            "resubmitted": status.resubmitted,
            "batches": sum(n for state, n in status.batches.items() if state != "unsent"),
            "cost": None if status.cost is None else str(status.cost),
            "output": self.output_uri,
        }
        self.log.info("%s", status)
        if self.fail_on_errors and status.failed:
            failed = f"{status.failed} of {status.total} requests failed"
            raise JobError(f"job {job.id}: {failed} (the output: {self.output_uri})")
        return summary


def _tag(batch: Batch) -> str | None:
    metadata = batch.to_dict().get("metadata")
    value = metadata.get(_JOB_TAG) if isinstance(metadata, dict) else None
    return value if isinstance(value, str) else None


def _running(job: Job) -> list[str]:
    """The ids of the job's batches running at its last round (from its directory: no request)."""
    return [b.batch_id for b in job.batches() if b.running and b.batch_id is not None]
