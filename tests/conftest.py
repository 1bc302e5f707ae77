"""Fixtures shared by the client tests."""

from __future__ import annotations

import pytest

from siliconflow_batch import _http

from fakes import FakeAPI, FakeClock


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> FakeClock:
    """Replace the client's clock and sleeps: nothing really waits, every delay is recorded."""
    fake = FakeClock()
    monkeypatch.setattr(_http, "monotonic", fake.monotonic)
    monkeypatch.setattr(_http, "sleep", fake.sleep)
    monkeypatch.setattr(_http, "async_sleep", fake.async_sleep)
    return fake


@pytest.fixture
def api() -> FakeAPI:
    """A scripted API for one test."""
    return FakeAPI()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """Run the test with the sync client and again with the async one."""
    return str(request.param)
