"""Fixtures shared by the client tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from hypothesis import settings

from siliconflow_batch.testing import Emulator, RunningServer, VirtualClock

from fakes import FakeAPI

# Property tests draw the same examples on every run: a test that passed cannot fail by chance in CI (an input
# that breaks the code is found by widening a test's examples, then kept as an explicit case).
settings.register_profile("deterministic", derandomize=True, print_blob=True)
settings.load_profile("deterministic")


@pytest.fixture
def clock() -> Iterator[VirtualClock]:
    """The package's public test clock, installed: nothing really waits, every delay is recorded."""
    with VirtualClock(start=1000.0) as virtual:
        yield virtual


@pytest.fixture
def api() -> FakeAPI:
    """A scripted API for one test."""
    return FakeAPI()


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    """Run the test with the sync client and again with the async one."""
    return str(request.param)


@pytest.fixture
def emulator(clock: VirtualClock) -> Emulator:
    """An in-memory emulator on the test's fake clock: each stage of a batch takes 10 s of it."""
    return Emulator(stage_seconds=10, clock=clock.monotonic)


@pytest.fixture
def server(emulator: Emulator) -> Iterator[RunningServer]:
    """The emulator served on a loopback port for the test."""
    with emulator.serve() as running:
        yield running


@pytest.fixture
def url(server: RunningServer) -> str:
    """The served emulator's base URL."""
    return server.url
