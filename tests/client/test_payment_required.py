"""HTTP 402 (no recharged balance): a typed error naming the rule, never retried, never taken for an overload."""

from __future__ import annotations

import pickle

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch._exceptions import BALANCE_RULE
from siliconflow_batch._retry import should_retry
from siliconflow_batch.testing import VirtualClock

from fakes import FakeAPI, batch, make_client, ok, run

NO_BALANCE = httpx.Response(
    402,
    json={"code": 30011, "message": "Sorry, your account balance is insufficient"},
    headers={"x-should-retry": "true"},
)


def test_a_402_on_create_is_a_payment_required_error_sent_once(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on("POST /batches", NO_BALANCE, ok(batch()))
    with pytest.raises(sf.PaymentRequiredError) as caught:
        run(make_client(mode, api, max_retries=3).batches.create(input_file_id="file-in"))
    error = caught.value
    assert isinstance(error, sf.APIStatusError)
    assert isinstance(error, sf.InsufficientBalanceError)  # one except clause for the job's check and the server's
    assert error.status_code == 402
    assert error.code == 30011
    assert "your account balance is insufficient" in error.message
    assert "batches are paid only from recharged balance; top up, then run the same command again" in str(error)
    assert len(api.requests) == 1  # not retried, and not looked up: a refusal is no ambiguous failure
    assert clock.sleeps == []


def test_a_402_is_never_retried_even_when_the_header_says_so_or_the_body_says_overloaded(
    mode: str, api: FakeAPI, clock: VirtualClock
) -> None:
    refusal = httpx.Response(402, json={"code": 50505, "message": "busy"}, headers={"x-should-retry": "true"})
    api.on("GET /batches/batch_1", refusal, ok(batch()))
    with pytest.raises(sf.PaymentRequiredError):
        run(make_client(mode, api).batches.retrieve("batch_1"))
    assert len(api.requests) == 1
    assert not should_retry(idempotent=True, response=refusal)
    assert not should_retry(idempotent=False, response=refusal)


def test_a_402_ends_a_wait_at_once(mode: str, api: FakeAPI, clock: VirtualClock) -> None:
    api.on("GET /batches/batch_1", httpx.Response(402, text="Payment Required"))
    with pytest.raises(sf.PaymentRequiredError, match="top up"):
        run(make_client(mode, api).batches.wait("batch_1", poll_interval=5, max_outage=3600))
    assert len(api.requests) == 1


def test_the_message_is_one_line_and_the_error_pickles(mode: str, api: FakeAPI) -> None:
    api.on("POST /batches", httpx.Response(402, json={"message": "no\nmoney\r\n  here"}))
    with pytest.raises(sf.PaymentRequiredError) as caught:
        run(make_client(mode, api).batches.create(input_file_id="file-in"))
    text = str(caught.value)
    assert "\n" not in text
    assert "\r" not in text
    assert text.endswith(f"no money here; {BALANCE_RULE}")
    again = pickle.loads(pickle.dumps(caught.value))
    assert type(again) is sf.PaymentRequiredError
    assert str(again) == text
    assert again.status_code == 402
