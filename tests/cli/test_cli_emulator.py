"""`siliconflow-batch emulator`: strict as the vendor by default, each leniency and vendor failure a flag."""

from __future__ import annotations

import io
from decimal import Decimal

import pytest

from siliconflow_batch import cli
from siliconflow_batch.testing import Emulator, RunningServer


@pytest.fixture
def started(monkeypatch: pytest.MonkeyPatch) -> list[Emulator]:
    """The emulators the command builds; none listens (serve() refuses, the command ends at once)."""
    built: list[Emulator] = []

    def refuse(self: Emulator, port: int = 0, host: str = "127.0.0.1") -> RunningServer:
        built.append(self)
        raise OSError(98, "Address already in use")

    monkeypatch.setattr(Emulator, "serve", refuse)
    return built


def _emulator(started: list[Emulator], *flags: str) -> Emulator:
    code = cli.main(["emulator", *flags], stdout=io.StringIO(), stderr=io.StringIO())
    assert code == 2  # the refused port: a usage error
    (emulator,) = started
    return emulator


def test_the_emulator_command_is_strict_by_default(started: list[Emulator]) -> None:
    emulator = _emulator(started)
    assert (emulator.serve_inputs, emulator.result_urls, emulator.result_host) == (False, True, None)
    assert emulator.faults.not_found_times == 0
    assert Decimal(emulator.charge_balance) == Decimal("88.00")


def test_each_leniency_and_vendor_failure_is_a_flag(started: list[Emulator]) -> None:
    flags = ["--serve-inputs", "--result-ids", "--result-host", "files.test", "--result-not-found", "3"]
    emulator = _emulator(started, *flags, "--charge-balance", "0")
    assert (emulator.serve_inputs, emulator.result_urls, emulator.result_host) == (True, False, "files.test")
    assert emulator.faults.not_found_times == 3
    assert Decimal(emulator.charge_balance) == 0


@pytest.mark.parametrize("flags", [["--result-not-found", "-1"], ["--charge-balance", "much"]])
def test_odd_values_are_usage_errors(started: list[Emulator], flags: list[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        cli.main(["emulator", *flags], stdout=io.StringIO(), stderr=io.StringIO())
    assert caught.value.code == 2
    assert started == []
