"""The hook, the trigger and the provider entry point, each on its own (the trigger run as the triggerer runs it)."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from importlib import import_module
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import httpx
import pytest

from siliconflow_batch import AsyncSiliconFlow
from siliconflow_batch.airflow import SiliconFlowHook, SiliconFlowJobOperator, SiliconFlowJobTrigger, get_provider_info
from siliconflow_batch.airflow.hooks import _base_url
from siliconflow_batch.testing import Emulator, RunningServer

pytestmark = pytest.mark.slow

SECRET = "sk-the-secret-key"


def set_connection(monkeypatch: pytest.MonkeyPatch, conn_id: str, **fields: Any) -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", json.dumps({"conn_type": "siliconflow", **fields}))


@pytest.fixture
def served(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Emulator, RunningServer]]:
    emulator = Emulator(stage_seconds=0.02)
    with emulator.serve() as server:
        set_connection(monkeypatch, "sf_good", host=server.url, password=emulator.api_key)
        set_connection(monkeypatch, "sf_bad_key", host=server.url, password=SECRET)
        yield emulator, server


@pytest.mark.parametrize(
    ("host", "port", "schema", "url"),
    [
        (None, None, None, None),
        ("http://127.0.0.1:8000/v1/", None, None, "http://127.0.0.1:8000/v1"),
        ("api.siliconflow.cn", None, None, "https://api.siliconflow.cn/v1"),
        ("gateway.example", 8443, "/sf/v1", "https://gateway.example:8443/sf/v1"),
    ],
)
def test_base_url_from_the_connection(host: str | None, port: int | None, schema: str | None, url: str | None) -> None:
    assert _base_url(host, port, schema) == url


def test_the_hook_gives_clients_on_the_connection_and_never_shows_the_key(
    served: tuple[Emulator, RunningServer], monkeypatch: pytest.MonkeyPatch
) -> None:
    _, server = served
    set_connection(monkeypatch, "sf_extra", host=server.url, password=SECRET, extra={"max_retries": 0, "timeout": 5})
    hook = SiliconFlowHook("sf_extra")
    assert SECRET not in repr(hook)
    with hook.get_conn() as client:
        assert client.base_url == server.url
        assert SECRET not in repr(client)
    ok, message = hook.test_connection()  # the emulator refuses this key
    assert not ok
    assert SECRET not in message
    ok, message = SiliconFlowHook("sf_good").test_connection()
    assert ok, message
    assert "88" in message  # the emulator's recharged balance

    async def async_client() -> str:
        client = await SiliconFlowHook("sf_good").get_async_conn()
        async with client:
            assert isinstance(client, AsyncSiliconFlow)
            return client.base_url

    assert asyncio.run(async_client()) == server.url
    ui = SiliconFlowHook.get_ui_field_behaviour()
    assert ui["relabeling"] == {"password": "API Key", "host": "Base URL"}


def test_the_trigger_serializes_plain_values_that_rebuild_it() -> None:
    trigger = SiliconFlowJobTrigger(job_id="j", batch_ids=("b1", "b2"), poll_interval=5, deadline=1e9)
    path, kwargs = trigger.serialize()
    assert json.loads(json.dumps(kwargs)) == kwargs  # plain values only
    module, _, name = path.rpartition(".")
    again = getattr(import_module(module), name)(**kwargs)
    assert again.serialize() == (path, kwargs)
    assert kwargs["batch_ids"] == ["b1", "b2"]


def run_trigger(trigger: SiliconFlowJobTrigger) -> dict[str, Any]:
    async def first() -> Any:
        return await anext(trigger.run())

    event = asyncio.run(first())
    payload: dict[str, Any] = event.payload
    return payload


def scripted(monkeypatch: pytest.MonkeyPatch, statuses: list[str]) -> list[str]:
    """The hook's async client answers each retrieve with the next status (the last repeats); the ids asked."""
    asked: list[str] = []

    def reply(request: httpx.Request) -> httpx.Response:
        asked.append(request.url.path.rsplit("/", 1)[-1])
        status = statuses[min(len(asked), len(statuses)) - 1]
        body = {"id": asked[-1], "object": "batch", "status": status, "endpoint": "/v1/chat/completions"}
        return httpx.Response(
            200, json={**body, "input_file_id": "file-in", "completion_window": "24h", "created_at": 1}
        )

    async def client(self: SiliconFlowHook) -> AsyncSiliconFlow:
        transport = httpx.MockTransport(reply)
        return AsyncSiliconFlow(
            api_key="k", base_url="http://api.test/v1", http_client=httpx.AsyncClient(transport=transport)
        )

    monkeypatch.setattr(SiliconFlowHook, "get_async_conn", client)
    return asked


def test_in_queue_and_an_unknown_status_keep_the_trigger_waiting(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = scripted(monkeypatch, ["in_queue", "paused", "in_progress", "completed"])
    event = run_trigger(SiliconFlowJobTrigger(job_id="j", batch_ids=["batch_a"], poll_interval=0))
    assert event["status"] == "ended", event["message"]
    assert event["statuses"] == {"batch_a": "completed"}
    assert asked == ["batch_a"] * 4


@pytest.mark.parametrize(("first", "event_status"), [(500, "ended"), (429, "ended"), (404, "error")])
def test_a_failed_poll_that_may_pass_is_polled_again_and_a_final_one_is_an_error(
    monkeypatch: pytest.MonkeyPatch, first: int, event_status: str
) -> None:
    answers = [first, 200]

    def reply(request: httpx.Request) -> httpx.Response:
        status = answers.pop(0) if len(answers) > 1 else answers[0]
        if status != 200:
            return httpx.Response(status, json={"message": "not now"})
        body = {"id": "batch_a", "object": "batch", "status": "completed", "endpoint": "/v1/chat/completions"}
        return httpx.Response(200, json={**body, "input_file_id": "f", "completion_window": "24h", "created_at": 1})

    async def client(self: SiliconFlowHook) -> AsyncSiliconFlow:
        transport = httpx.MockTransport(reply)
        return AsyncSiliconFlow(
            api_key="k",
            base_url="http://api.test/v1",
            max_retries=0,
            http_client=httpx.AsyncClient(transport=transport),
        )

    monkeypatch.setattr(SiliconFlowHook, "get_async_conn", client)
    event = run_trigger(SiliconFlowJobTrigger(job_id="j", batch_ids=["batch_a"], poll_interval=0))
    assert event["status"] == event_status, event["message"]
    if event_status == "ended":
        assert event["statuses"] == {"batch_a": "completed"}
    else:
        assert "404" in event["message"]


def test_the_deadline_ends_the_wait(monkeypatch: pytest.MonkeyPatch) -> None:
    scripted(monkeypatch, ["in_queue"])
    event = run_trigger(SiliconFlowJobTrigger(job_id="j", batch_ids=["batch_a"], poll_interval=0, deadline=time.time()))
    assert event["status"] == "timeout"
    assert "batch_a" in event["message"]


def test_a_trigger_started_after_its_deadline_looks_once_before_it_calls_time(monkeypatch: pytest.MonkeyPatch) -> None:
    asked = scripted(monkeypatch, ["completed"])
    late = SiliconFlowJobTrigger(
        job_id="j", batch_ids=["batch_a", "batch_b"], poll_interval=60, deadline=time.time() - 1
    )
    event = run_trigger(late)  # a late re-defer whose batches have ended: they are seen ended, not timed out
    assert event["status"] == "ended", event["message"]
    assert event["statuses"] == {"batch_a": "completed", "batch_b": "completed"}
    assert asked == ["batch_a", "batch_b"]


def test_a_refused_poll_is_an_error_event_without_the_key(served: tuple[Emulator, RunningServer]) -> None:
    trigger = SiliconFlowJobTrigger(job_id="j", batch_ids=["batch_x"], siliconflow_conn_id="sf_bad_key")
    event = run_trigger(trigger)
    assert event["status"] == "error"
    assert SECRET not in json.dumps(event)


def test_a_server_that_never_answered_is_an_error_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    set_connection(monkeypatch, "sf_nowhere", host="http://127.0.0.1:9/v1", password=SECRET, extra={"max_retries": 0})
    event = run_trigger(SiliconFlowJobTrigger(job_id="j", batch_ids=["batch_x"], siliconflow_conn_id="sf_nowhere"))
    assert event["status"] == "error"
    assert "127.0.0.1" in event["message"]


def test_airflow_finds_the_connection_type_through_the_entry_point() -> None:
    (point,) = [p for p in entry_points(group="apache_airflow_provider") if p.value.startswith("siliconflow_batch")]
    assert point.load() is get_provider_info
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "siliconflow-batch" in manager.providers
    hook = manager.hooks["siliconflow"]
    assert hook is not None
    assert hook.hook_class_name == "siliconflow_batch.airflow.hooks.SiliconFlowHook"


def test_the_readme_dag_builds() -> None:
    text = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    block = text.split("## From Airflow", 1)[1].split("```python\n", 1)[1].split("```", 1)[0]
    assert len([line for line in block.splitlines() if line.strip()]) == 4  # two imports, the DAG, the task
    namespace: dict[str, Any] = {}
    exec(compile(block.replace('schedule="@daily"):', 'schedule="@daily") as dag:'), "README.md", "exec"), namespace)
    (task,) = namespace["dag"].tasks
    assert isinstance(task, SiliconFlowJobOperator)
    assert task.input_uri == "s3://evals/in.jsonl"
    assert task.output_uri == "s3://evals/{{ ds }}.jsonl"
    assert task.deferrable
