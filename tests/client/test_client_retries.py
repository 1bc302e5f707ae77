"""Retries: what is retried, how long it waits, and that a create or upload is never sent twice unsafely."""

from __future__ import annotations

import email.utils
import time
from pathlib import Path

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch._retry import Attempts, backoff_delay, retry_after, should_retry
from siliconflow_batch.testing import VirtualClock

from fakes import FakeAPI, batch, body_json, envelope, make_client, ok, run

EMPTY_PAGE: dict[str, object] = {"object": "list", "data": [], "first_id": None, "last_id": None, "has_more": False}
OVERLOADED = httpx.Response(503, json={"code": 50505, "message": "Model service overloaded.", "data": ""})
LINES = "".join(
    f'{{"custom_id":"{i}","method":"POST","url":"/v1/chat/completions",'
    '"body":{"model":"m","messages":[{"role":"user","content":"x"}]}}\n'
    for i in "abc"
)


def _input(tmp_path: Path) -> Path:
    path = tmp_path / "requests.jsonl"
    path.write_text(LINES)
    return path


def test_503_then_200_is_retried(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on("GET /batches/batch_1", OVERLOADED, ok(batch(status="validating")))
    result = run(make_client(mode, api).batches.retrieve("batch_1"))
    assert result.status == "validating"
    assert len(api.requests) == 2
    assert len(clock.sleeps) == 1
    assert 0.375 <= clock.sleeps[0] <= 0.5  # 0.5 s less up to 25 % jitter


def test_retries_stop_after_max_retries(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on("GET /batches/batch_1", httpx.Response(502))
    with pytest.raises(sf.InternalServerError):
        run(make_client(mode, api, max_retries=3).batches.retrieve("batch_1"))
    assert len(api.requests) == 4
    assert len(clock.sleeps) == 3


def test_backoff_doubles_from_half_a_second_to_an_eight_second_cap() -> None:
    for retries, ceiling in enumerate([0.5, 1.0, 2.0, 4.0, 8.0, 8.0, 8.0]):
        delays = [backoff_delay(retries) for _ in range(200)]
        assert all(0.75 * ceiling <= d <= ceiling for d in delays)
        assert len(set(delays)) > 1  # jittered


@pytest.mark.parametrize("status", [429, 500, 502, 503, 504])
def test_reads_retry_transient_statuses(mode: str, api: FakeAPI, clock: VirtualClock, status: int) -> None:
    api.on("GET /batches/batch_1", httpx.Response(status), ok(batch()))
    assert run(make_client(mode, api).batches.retrieve("batch_1")).id == "batch_1"
    assert len(api.requests) == 2


@pytest.mark.parametrize("status", [400, 401, 403, 404])
def test_client_errors_are_not_retried(mode: str, api: FakeAPI, clock: VirtualClock, status: int) -> None:
    api.on("GET /batches/batch_1", httpx.Response(status, text="no"))
    with pytest.raises(sf.APIStatusError):
        run(make_client(mode, api).batches.retrieve("batch_1"))
    assert len(api.requests) == 1


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (httpx.Response(504, json="string"), sf.GatewayTimeoutError),
        (httpx.Response(500, text="boom"), sf.InternalServerError),
        (httpx.Response(502, text="bad gateway"), sf.InternalServerError),
        (httpx.ReadTimeout("read timed out"), sf.APITimeoutError),
        (httpx.RemoteProtocolError("peer closed connection"), sf.APIConnectionError),
    ],
)
def test_create_is_sent_again_only_once_a_lookup_shows_the_server_did_not_act(
    mode: str, api: FakeAPI, clock: VirtualClock, reply: httpx.Response | Exception, error: type
) -> None:
    api.on("POST /batches", reply, ok(batch()))
    api.on("GET /batches", ok(EMPTY_PAGE))
    assert run(make_client(mode, api).batches.create(input_file_id="file-in")).id == "batch_1"
    posts = api.calls("POST /batches")
    assert len(posts) == 2
    assert [r.method for r in api.requests] == ["POST", "GET", "POST"]  # looked up before sending again
    keys = {body_json(r)["metadata"]["idempotency_key"] for r in posts}
    assert len(keys) == 1  # the same key both times: the one made for this call
    assert len(api.calls("GET /batches")) == 1


@pytest.mark.parametrize(
    "later",
    [
        httpx.Response(503, json={"code": 50505, "message": "overloaded", "data": ""}),
        httpx.Response(429, json={"code": 42900, "message": "slow down", "data": ""}),
        httpx.ConnectError("refused"),
    ],
    ids=["overloaded", "rate-limited", "refused"],
)
def test_a_create_that_was_ambiguous_once_still_says_it_may_exist_when_later_tries_fail_otherwise(
    mode: str, api: FakeAPI, clock: VirtualClock, later: httpx.Response | Exception
) -> None:
    """A 504 first (the batch may exist, the list may lag), then tries that prove nothing: the error says so."""
    api.on("POST /batches", httpx.Response(504, json="string"), *[later] * 20)
    api.on("GET /batches", ok(EMPTY_PAGE))
    with pytest.raises(sf.APIError, match="the batch may have been created: it would carry idempotency_key=") as caught:
        run(make_client(mode, api).batches.create(input_file_id="file-in"))
    assert "the batch may have been created" in str(caught.value)
    methods = [r.method for r in api.requests]
    assert methods[:2] == ["POST", "GET"]  # looked up before each try after the ambiguous one
    assert methods[-1] == "GET"  # and once more before giving up


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        (httpx.Response(504, json="string"), sf.GatewayTimeoutError),
        (httpx.Response(500, text="boom"), sf.InternalServerError),
        (httpx.ReadTimeout("read timed out"), sf.APITimeoutError),
        (httpx.RemoteProtocolError("peer closed connection"), sf.APIConnectionError),
        (httpx.Response(200, text='{"id": "batch_1", "sta'), sf.APIResponseValidationError),  # a cut body
    ],
)
def test_a_create_without_a_key_that_the_server_carried_out_is_found_not_repeated(
    mode: str, api: FakeAPI, reply: httpx.Response | Exception, error: type
) -> None:
    sent: list[str] = []

    def created(request: httpx.Request) -> httpx.Response:
        sent.append(body_json(request)["metadata"]["idempotency_key"])
        if isinstance(reply, Exception):
            raise reply
        return httpx.Response(reply.status_code, headers=reply.headers, content=reply.content)

    def listed(request: httpx.Request) -> httpx.Response:
        made = [batch(id=f"batch_{i}", metadata={"idempotency_key": key}) for i, key in enumerate(sent)]
        return ok({"object": "list", "data": [batch(id="other"), *made], "has_more": False})

    api.on("POST /batches", created)
    api.on("GET /batches", listed)
    found = run(make_client(mode, api).batches.create(input_file_id="file-in", metadata={"team": "evals"}))
    assert found.id == "batch_0"
    assert len(sent) == 1  # no second batch
    assert sent[0].startswith("sfb-")


def test_an_unresolved_create_says_the_batch_may_exist_and_how_to_find_it(
    mode: str, api: FakeAPI, clock: VirtualClock
) -> None:
    api.on("POST /batches", httpx.Response(504, json="string"))
    api.on("GET /batches", httpx.Response(503, text="busy"))
    with pytest.raises(sf.GatewayTimeoutError) as caught:
        run(make_client(mode, api, max_retries=1).batches.create(input_file_id="file-in"))
    key = body_json(api.calls("POST /batches")[0])["metadata"]["idempotency_key"]
    message = str(caught.value)
    assert message == caught.value.message
    assert "\n" not in message
    assert "the batch may have been created" in message
    assert f"idempotency_key={key}" in message
    assert "siliconflow-batch list" in message
    assert f"--idempotency-key {key}" in message
    assert len(api.calls("POST /batches")) == 1  # never sent again while the lookup could not tell


def test_a_keyed_create_whose_first_lookup_fails_is_not_sent(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on("POST /batches", ok(batch()))
    api.on("GET /batches", httpx.Response(503, text="busy"))
    with pytest.raises(sf.OverloadedError, match="may have been created: it would carry idempotency_key=k-1"):
        run(make_client(mode, api, max_retries=1).batches.create(input_file_id="file-in", idempotency_key="k-1"))
    assert api.calls("POST /batches") == []  # an earlier run may have made it: no guessing


def test_a_lookup_that_cannot_work_reports_the_create_s_own_failure(
    mode: str, api: FakeAPI, clock: VirtualClock
) -> None:
    api.on("POST /batches", httpx.Response(504, json="string"))
    api.on("GET /batches", httpx.Response(404, text="404 page not found"))  # a server without the list route
    with pytest.raises(sf.GatewayTimeoutError, match="may have been created") as caught:
        run(make_client(mode, api).batches.create(input_file_id="file-in"))
    assert isinstance(caught.value.__cause__, sf.NotFoundError)
    assert len(api.calls("POST /batches")) == 1


@pytest.mark.parametrize(
    "reply",
    [
        httpx.Response(429, headers={"Retry-After": "1"}),
        OVERLOADED,
        httpx.ConnectError("connection refused"),
        httpx.ConnectTimeout("connect timed out"),
    ],
)
def test_create_is_retried_when_the_server_provably_did_nothing(
    mode: str, api: FakeAPI, clock: VirtualClock, reply: httpx.Response | Exception
) -> None:
    api.on("POST /batches", reply, ok(batch()))
    assert run(make_client(mode, api).batches.create(input_file_id="file-in")).id == "batch_1"
    assert len(api.calls("POST /batches")) == 2


def test_upload_retry_sends_the_whole_file_again(mode: str, api: FakeAPI, clock: VirtualClock, tmp_path: Path) -> None:
    uploaded = {"id": "file-1", "object": "file", "bytes": 1, "createdAt": 1, "filename": "requests.jsonl"}
    api.on("POST /files", OVERLOADED, envelope(uploaded))
    run(make_client(mode, api).files.upload(_input(tmp_path)))
    first, second = api.bodies
    assert LINES.encode() in first
    assert LINES.encode() in second
    assert api.requests[1].headers["content-type"].startswith("multipart/form-data; boundary=")
    assert "boundary=+++" not in api.requests[1].headers["content-type"]


def test_upload_is_not_retried_after_a_read_timeout(
    mode: str, api: FakeAPI, clock: VirtualClock, tmp_path: Path
) -> None:
    api.on("POST /files", httpx.ReadTimeout("slow"))
    with pytest.raises(sf.APITimeoutError):
        run(make_client(mode, api).files.upload(_input(tmp_path)))
    assert len(api.requests) == 1


def test_retry_after_seconds_is_honoured(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on("GET /batches/batch_1", httpx.Response(429, headers={"Retry-After": "3"}), ok(batch()))
    run(make_client(mode, api).batches.retrieve("batch_1"))
    assert clock.sleeps == [3.0]


def test_retry_after_http_date_is_honoured(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    when = email.utils.formatdate(time.time() + 30, usegmt=True)
    api.on("GET /batches/batch_1", httpx.Response(503, headers={"Retry-After": when}), ok(batch()))
    run(make_client(mode, api).batches.retrieve("batch_1"))
    assert 27.0 <= clock.sleeps[0] <= 30.0


def test_retry_after_is_capped(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on("GET /batches/batch_1", httpx.Response(429, headers={"Retry-After": "3600"}), ok(batch()))
    run(make_client(mode, api).batches.retrieve("batch_1"))
    assert clock.sleeps == [60.0]


def test_retry_after_parsing() -> None:
    assert retry_after(httpx.Headers({"retry-after-ms": "1500"})) == 1.5
    assert retry_after(httpx.Headers({"retry-after": "2.5"})) == 2.5
    assert retry_after(httpx.Headers({"retry-after": "-4"})) == 0.0
    assert retry_after(httpx.Headers({"retry-after": "soon"})) is None
    assert retry_after(httpx.Headers({})) is None
    past = email.utils.formatdate(time.time() - 100, usegmt=True)
    assert retry_after(httpx.Headers({"retry-after": past})) == 0.0


def test_x_should_retry_header_is_obeyed() -> None:
    request = httpx.Request("GET", "https://api.test/v1/batches/b")
    no = httpx.Response(503, headers={"x-should-retry": "false"}, request=request)
    yes = httpx.Response(400, headers={"x-should-retry": "true"}, request=request)
    assert not should_retry(idempotent=True, response=no)
    assert should_retry(idempotent=True, response=yes)
    assert not should_retry(idempotent=False, response=yes)  # never unsafe for a create


def test_read_timeouts_and_dropped_connections_are_retried_for_reads(
    mode: str, api: FakeAPI, clock: VirtualClock
) -> None:
    api.on("GET /batches/batch_1", httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("dropped"), ok(batch()))
    assert run(make_client(mode, api).batches.retrieve("batch_1")).id == "batch_1"
    assert len(api.requests) == 3


def test_timeouts_surface_as_api_timeout_error(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on("GET /batches/batch_1", httpx.ReadTimeout("slow"))
    with pytest.raises(sf.APITimeoutError, match=r"GET https://api\.test/v1/batches/batch_1: timed out") as caught:
        run(make_client(mode, api, max_retries=1).batches.retrieve("batch_1"))
    assert caught.value.request is not None
    assert len(api.requests) == 2


def test_zero_retries_sends_once(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on("GET /batches/batch_1", OVERLOADED)
    with pytest.raises(sf.OverloadedError):
        run(make_client(mode, api, max_retries=0).batches.retrieve("batch_1"))
    assert len(api.requests) == 1


def test_negative_max_retries_is_refused(api: FakeAPI) -> None:
    with pytest.raises(ValueError, match="max_retries must be >= 0"):
        make_client("sync", api, max_retries=-1)


def test_a_body_read_is_tried_again_only_after_a_failure_that_may_pass() -> None:
    attempts = Attempts(2)
    assert attempts.delay_after(httpx.ReadError("dropped")) is not None  # the same GET may work
    assert attempts.delay_after(httpx.DecodingError("bad gzip")) is None  # the same bytes again: final
    assert attempts.failures == 2
    assert attempts.delay_after(httpx.ReadTimeout("slow")) is None  # 2 retries spent
