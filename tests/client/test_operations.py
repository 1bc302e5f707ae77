"""Each endpoint declared once (_operations/), sent through the sender, with a raw twin derived from its method."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch._operations import Operation, account, batches, files
from siliconflow_batch.resources import (
    Account,
    AsyncAccount,
    AsyncBatches,
    AsyncFiles,
    Batches,
    Files,
)

from fakes import FakeAPI, batch, make_client, ok, run

MODULES = [account, batches, files]
OPERATIONS = {
    f"{module.__name__.rsplit('.', 1)[1]}.{name}": value
    for module in MODULES
    for name, value in vars(module).items()
    if isinstance(value, Operation)
}


def test_the_operations_are_declared_with_their_build_parse_and_retry_rule() -> None:
    assert {"account.user_info", "batches.get_batch", "files.get_file_content"} <= set(OPERATIONS)
    # Only what a retry could do twice (a second batch, a second file) is not idempotent.
    assert sorted(name for name, op in OPERATIONS.items() if not op.idempotent) == [
        "batches.create_batch",
        "files.upload_file",
    ]
    for name, op in OPERATIONS.items():
        assert (op.build.__doc__ or "").strip(), name
        assert op.name == name.split(".")[1]
        assert callable(op.parse), name


def test_an_operation_builds_its_request_from_the_generated_one() -> None:
    call = batches.list_batches(limit=5, after=None)
    assert (call.spec.method, call.spec.url, call.spec.params, call.spec.idempotent) == (
        "GET",
        "/batches",
        {"limit": 5},
        True,
    )
    assert call.parse is batches.list_batches.parse
    content = files.get_file_content("file 1/x")
    assert (content.spec.url, dict(content.spec.headers)) == ("/files/file%201%2Fx/content", {"Accept": "*/*"})
    signed = files.get_file_content("https://results.example/out.jsonl?sig=1")
    assert signed.spec.url == "https://results.example/out.jsonl?sig=1"
    assert repr(batches.create_batch) == "<Operation create_batch (not idempotent)>"


def test_a_bad_argument_is_refused_when_the_call_is_built() -> None:
    for build in (lambda: batches.get_batch(""), lambda: files.get_file_content(" ")):
        with pytest.raises(sf.InputValidationError, match="must be a non-empty string"):
            build()
    with pytest.raises(sf.InputValidationError, match="limit: must be at least 1"):
        files.list_files(limit=0)


def test_an_upload_is_built_again_for_every_attempt(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b'{"a": 1}\n')
    with path.open("rb") as handle:
        call = files.upload_file(handle, "in.jsonl")
        assert call.spec.files is not None
        handle.read()  # a first attempt read the file to its end
        ((_, (name, body, _)),) = [part for part in call.spec.files() if part[0] == "file"]
        assert (name, body.read()) == ("in.jsonl", b'{"a": 1}\n')


@pytest.mark.parametrize(
    ("resource", "view"),
    [
        (Batches, "RawBatches"),
        (AsyncBatches, "AsyncRawBatches"),
        (Files, "RawFiles"),
        (AsyncFiles, "AsyncRawFiles"),
        (Account, "RawAccount"),
        (AsyncAccount, "AsyncRawAccount"),
    ],
)
def test_every_single_request_method_has_a_raw_twin_and_no_other_has(resource: type, view: str) -> None:
    marked = {vars(method)["__raw_name__"] for method in vars(resource).values() if hasattr(method, "__raw_name__")}
    client = make_client("async" if resource.__name__.startswith("Async") else "sync", FakeAPI())
    instance: Any = getattr(client, resource.__name__.removeprefix("Async").lower())
    raw, again = instance.with_raw_response, instance.with_raw_response
    assert type(instance) is resource
    assert type(raw).__name__ == view
    assert again is raw  # made once, on first use
    assert marked
    assert set(vars(raw)) == marked


def test_the_raw_views_are_what_scripts_raw_views_writes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from raw_views import main

    monkeypatch.setenv("PATH", f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")  # ruff
    assert main(["--check"]) == 0, capsys.readouterr().err


def test_a_method_marked_single_request_is_in_its_resources_view(tmp_path: Path) -> None:
    from raw_views import View, views

    (tmp_path / "things.py").write_text(
        "class AsyncThings(AsyncResource[AsyncRawThings]):\n"
        "    @single_request\n"
        "    async def get(self, thing_id: str) -> Thing: ...\n"
        "    async def wait(self, thing_id: str) -> Thing: ...\n"
        '    @single_request(raw_name="list")\n'
        "    async def page(self) -> ThingPage: ...\n"
    )
    (tmp_path / "other.py").write_text("class Helper:\n    def get(self) -> None: ...\n")
    assert views(tmp_path) == [View("things", "AsyncThings", (("get", "get"), ("list", "page")))]
    assert views(tmp_path)[0].name == "AsyncRawThings"


def test_a_raw_create_with_its_key_looks_aside_then_hands_back_the_create(mode: str, api: FakeAPI) -> None:
    # The lookup (the key given: it may have been used) is parsed on the way; the create's own answer comes back.
    api.on("GET /batches", ok({"object": "list", "data": [], "has_more": False}))
    api.on("POST /batches", httpx.Response(200, text="not JSON"))
    raw = run(make_client(mode, api).batches.with_raw_response.create(input_file_id="file-in", idempotency_key="k"))
    assert [r.method for r in api.requests] == ["GET", "POST"]
    assert raw.http_response.request.method == "POST"
    with pytest.raises(sf.APIResponseValidationError):
        raw.parse()


def test_every_resource_call_goes_through_the_sender_once(mode: str, api: FakeAPI) -> None:
    api.on("GET /batches/batch_1", ok(batch()))
    client = make_client(mode, api)
    assert run(client.batches.retrieve("batch_1")).id == "batch_1"
    assert run(client.batches.with_raw_response.retrieve("batch_1")).parse().id == "batch_1"
    assert len(api.requests) == 2


def test_the_resources_load_no_generated_operation_or_model_before_the_first_request() -> None:
    # Import cost: client.batches, .files and .account load their operations, whose generated operations and models
    # are imported inside each build and parse, with the first request (only the model checks' small module before).
    code = """
import sys
import siliconflow_batch as sf
client = sf.SiliconFlow(api_key="k")
client.batches.with_raw_response, client.files.with_raw_response, client.account.with_raw_response
loaded = [m for m in sys.modules if m.startswith("siliconflow_batch_generated.")]
print(sorted(m for m in loaded if m != "siliconflow_batch_generated.checks"))
print("siliconflow_batch._operations.batches" in sys.modules)
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True)
    assert result.stdout.split("\n")[:2] == ["[]", "True"], result.stdout + result.stderr
