"""A job's money through the public API against the emulator: the estimate brackets what the job costs, and a cap
stops creation at the right shard, holds the rest back (outcome ``budget``) and a higher cap sends exactly those."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch._jobs.ledger import LEDGER_NAME, Ledger, ShardState
from siliconflow_batch._jobs.money import committed, job_prices
from siliconflow_batch.pricing import PriceTable
from siliconflow_batch.testing import Emulator

from job_support import assert_tallies_match, batches_per_shard_attempt

V3 = "deepseek-ai/DeepSeek-V3"
R1 = "deepseek-ai/DeepSeek-R1"


def _lines(count: int, model: str = V3, **body: Any) -> list[dict[str, Any]]:
    text = "Summarise the following paragraph in one short sentence, please. " * 3
    return [
        {
            "custom_id": f"r{i}",
            "body": {"model": model, "messages": [{"role": "user", "content": f"{i} {text}"}], **body},
        }
        for i in range(count)
    ]


def _client(emulator: Emulator) -> sf.SiliconFlow:
    http = httpx.Client(transport=emulator.transport())
    return sf.SiliconFlow(api_key=emulator.api_key, base_url="http://emulator/v1", http_client=http)


def _ledger_committed(job_dir: Path) -> tuple[Decimal | None, Decimal | None]:
    """(committed, cap) as the ledger has them now."""
    ledger = Ledger(job_dir / LEDGER_NAME)
    try:
        cap = (ledger.meta("settings") or {}).get("max_cost")
        return committed(ledger, job_prices(ledger)).committed, None if cap is None else Decimal(cap)
    finally:
        ledger.close()


def test_the_estimate_before_the_job_brackets_what_the_same_job_spends(emulator: Emulator, tmp_path: Path) -> None:
    lines = _lines(250, max_tokens=120) + _lines(50, R1)[:50]
    for i, line in enumerate(lines):
        line["custom_id"] = f"r{i}"
    with _client(emulator) as client:
        before = client.jobs.estimate(lines, max_shard_lines=100)
        assert before.shards == 4  # 250 V3 lines in 3 shards, 50 R1 lines in 1
        assert before.estimate.requests == 300
        assert before.estimate.balance == Decimal("88.00")
        assert before.estimate.covered is True
        assert before.estimate.cost_low is not None
        assert before.estimate.cost_high is not None
        job = client.jobs.run(lines, job_dir=tmp_path / "job", max_shard_lines=100, poll_interval=5)
        with job:
            status = job.status(refresh=False)
    assert status.succeeded == 300
    assert status.spent is not None
    assert before.estimate.cost_low <= status.spent <= before.estimate.cost_high
    assert status.estimate is not None  # the one the job made when it began is the same
    assert (status.estimate.cost_low, status.estimate.cost_high) == (
        before.estimate.cost_low,
        before.estimate.cost_high,
    )
    for model, money in status.money.items():  # and per model
        assert money.spent is not None
        assert money.estimated_low is not None
        assert money.estimated_high is not None
        assert money.estimated_low <= money.spent <= money.estimated_high, model
    assert status.committed == status.spent  # nothing in flight at the end
    # Calibrated from the lines the job ran, the input estimate meets the tokens the vendor counted.
    with _client(emulator) as client:
        again = client.jobs.estimate(lines, job_dir=tmp_path / "job", max_shard_lines=100, balance=False)
    assert again.calibrated_from == (str(tmp_path / "job"),)
    assert again.estimate.input_tokens == pytest.approx(status.input_tokens, rel=0.01)
    assert again.estimate.balance is None
    assert "calibrated from 250 lines run" in again.estimate.by_model[V3].ratio


def test_a_cap_stops_creation_at_the_right_shard_and_a_higher_cap_sends_exactly_what_it_held(
    emulator: Emulator, tmp_path: Path
) -> None:
    lines = _lines(600, max_tokens=200)
    prices = PriceTable.load()
    job_dir = tmp_path / "job"
    states: list[tuple[Decimal | None, Decimal | None]] = []
    with _client(emulator) as client:
        bound = client.jobs.estimate(lines[:100], balance=False).estimate.cost_high  # one shard's upper bound
        assert bound is not None
        cap = (bound * Decimal("1.2")).quantize(Decimal("0.0001"))
        job = client.jobs.run(
            lines, job_dir=job_dir, max_shard_lines=100, max_cost=cap, poll_interval=5, prices=prices,
            on_progress=lambda _: states.append(_ledger_committed(job_dir)),
        )  # fmt: skip
        with job:
            status = job.status(refresh=False)
            results = list(job.results())
    assert states
    assert all(c is not None and c <= cap for c, _ in states)
    assert status.max_cost == cap
    assert status.done
    assert status.budget > 0
    assert status.pending == 0
    assert status.succeeded + status.budget == 600
    assert status.committed is not None
    assert status.committed <= cap
    # The right shard: the first held one did not fit on what was spent, with nothing in flight.
    ledger = Ledger(job_dir / LEDGER_NAME)
    try:
        held = ledger.shards(ShardState.HELD)
        sent = [s for s in ledger.shards() if s.state is ShardState.INGESTED]
        assert held
        assert sent
        assert max(s.id for s in sent) < min(s.id for s in held)  # creation stopped there, in order
        assert status.spent is not None
        assert held[0].bound is not None
        assert status.spent + Decimal(held[0].bound) > cap
        assert all(s.bound is not None for s in ledger.shards())
    finally:
        ledger.close()
    budget = [r for r in results if not r.ok]
    assert len(budget) == status.budget == 100 * len(held)
    assert all(r.error is not None and r.error["code"] == "budget" for r in budget)
    assert status.batches.get("held") == len(held)
    assert status.to_dict()["requests"]["budget"] == status.budget
    assert f"{status.budget} held back by the cap" in str(status)
    created = set(batches_per_shard_attempt(emulator, "job"))
    assert {shard for shard, _ in created} == {str(s.id) for s in sent}  # nothing created for a held shard
    assert_tallies_match(job_dir)
    # Again with a higher cap: exactly the held shards are sent, once each.
    with _client(emulator) as client:
        job = client.jobs.run(lines, job_dir=job_dir, max_shard_lines=100, max_cost="5", poll_interval=5)
        with job:
            final = job.status(refresh=False)
            assert job.options.get("max_cost") == "5"
            results = list(job.results())
    assert final.succeeded == 600
    assert final.budget == 0
    assert [r.custom_id for r in results] == [f"r{i}" for i in range(600)]
    per_shard = batches_per_shard_attempt(emulator, "job")
    assert set(per_shard.values()) == {1}
    assert {shard for shard, _ in per_shard} - {shard for shard, _ in created} == {str(s.id) for s in held}
    assert final.max_cost == Decimal("5")
    assert_tallies_match(job_dir)  # held, released, sent


def test_a_cap_waits_for_what_is_in_flight_before_it_holds_anything(emulator: Emulator, tmp_path: Path) -> None:
    lines = _lines(300, max_tokens=200)
    with _client(emulator) as client:
        bound = client.jobs.estimate(lines[:100], balance=False).estimate.cost_high
        assert bound is not None
        # Room for one shard's bound at a time: each waits for the one before to spend less than its bound.
        job = client.jobs.submit(lines, job_dir=tmp_path / "job", max_shard_lines=100, max_cost=bound * Decimal("1.5"))
        with job:
            assert job.status(refresh=False).batches.get("unsent") == 2  # they wait: nothing is held
            assert len(batches_per_shard_attempt(emulator, "job")) == 1
            status = job.wait(poll_interval=5)
    assert status.succeeded == 300
    assert status.budget == 0


@pytest.mark.parametrize("value", ["-1", "abc", float("nan"), True, [1]])
def test_a_bad_max_cost_is_refused_naming_it_before_anything_is_sent(
    emulator: Emulator, tmp_path: Path, value: object
) -> None:
    with _client(emulator) as client, pytest.raises(sf.InputValidationError) as caught:
        client.jobs.submit(_lines(3), job_dir=tmp_path / "job", max_cost=value)  # type: ignore[arg-type]
    assert caught.value.problems[0].field == "max_cost"
    assert emulator.batches() == []


def test_a_cap_needs_a_price_for_every_model(emulator: Emulator, tmp_path: Path) -> None:
    with _client(emulator) as client, pytest.raises(sf.InputValidationError, match="has none"):
        client.jobs.submit(_lines(3, "Unknown/Model-7B"), job_dir=tmp_path / "job", max_cost="1")
    assert emulator.batches() == []


def test_the_cli_dry_run_sends_nothing_and_a_bad_price_file_is_one_line(
    emulator: Emulator, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from siliconflow_batch.cli import main

    source = tmp_path / "in.jsonl"
    source.write_text("".join(json.dumps(line) + "\n" for line in _lines(250, max_tokens=50)))
    with emulator.serve() as server:
        common = ["--base-url", server.url, "--api-key", emulator.api_key]
        code = main(["run", str(source), "--job-dir", str(tmp_path / "j"), "--shard-lines", "100", "--dry-run",
                     "--max-cost", "0.01", "--json", *common])  # fmt: skip
        report = json.loads(capsys.readouterr().out)
        assert code == 0
        assert report["shards"] == 3
        assert report["estimate"]["requests"] == 250
        assert report["estimate"]["covered"] is True
        assert report["within_cap"] is False
        assert emulator.batches() == []
        assert not (tmp_path / "j").exists()
        bad = tmp_path / "prices.json"
        bad.write_text(json.dumps({"prices": {V3: {"input": "2", "output": "x"}}}))
        code = main(["run", str(source), "--job-dir", str(tmp_path / "j"), "--prices", str(bad), *common])
        err = capsys.readouterr().err.strip()
        assert code == 2
        assert err.count("\n") == 0
        assert "--prices" in err
        assert V3 in err
        assert '"output"' in err
        monkeypatch.setenv("SILICONFLOW_BATCH_PRICES", str(bad))
        assert main(["run", str(source), "--job-dir", str(tmp_path / "j"), *common]) == 2
        assert "SILICONFLOW_BATCH_PRICES" in capsys.readouterr().err
        assert emulator.batches() == []
