"""Batch prices (the packaged data file, or yours) and token usage summed per model from result lines."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest

import siliconflow_batch as sf
from siliconflow_batch.pricing import ModelPrice, PriceTable, TokenUsage


def _result(model: str | None, prompt: int, completion: int, *, ok: bool = True) -> sf.BatchResult:
    body: dict[str, object] = {"model": model, "usage": {"prompt_tokens": prompt, "completion_tokens": completion}}
    if not ok:
        return sf.BatchResult("x", None, {"code": "batch_expired", "message": "expired"}, source="error")
    return sf.BatchResult("x", {"status_code": 200, "body": body}, None)


def test_the_packaged_prices_are_the_vendors_with_source_and_date() -> None:
    table = PriceTable.load()
    assert table.price_of("deepseek-ai/DeepSeek-V3") == ModelPrice(Decimal(1), Decimal(4))
    assert table.price_of("deepseek-ai/DeepSeek-R1") == ModelPrice(Decimal(2), Decimal(8))
    assert table.price_of("Qwen/QwQ-32B") == ModelPrice(Decimal("0.5"), Decimal(2))
    assert table.price_of("deepseek-ai/DeepSeek-V3.1-Terminus") == ModelPrice(Decimal(2), Decimal(6))
    assert table.price_of("moonshotai/Kimi-K2-Instruct-0905") == ModelPrice(Decimal(2), Decimal(8))
    assert "batch" in table.source
    assert table.as_of == "2026-11-24"


def test_the_emulator_serves_exactly_the_priced_models() -> None:
    from siliconflow_batch.testing import DEFAULT_MODELS

    assert set(PriceTable.load().prices) == set(DEFAULT_MODELS)


def test_usage_sums_per_model_and_prices_it() -> None:
    usage = TokenUsage()
    for result in [
        _result("deepseek-ai/DeepSeek-V3", 1_000_000, 250_000),
        _result("deepseek-ai/DeepSeek-V3", 500_000, 0),
        _result("Qwen/QwQ-32B", 2_000_000, 1_000_000),
        _result(None, 0, 0, ok=False),  # an expired line: no usage, nothing added
    ]:
        usage.add(result)
    assert usage.by_model["deepseek-ai/DeepSeek-V3"].input_tokens == 1_500_000
    assert usage.by_model["deepseek-ai/DeepSeek-V3"].requests == 2
    # V3: 1.5M in x 1 + 0.25M out x 4 = 2.5; QwQ: 2M x 0.5 + 1M x 2 = 3
    assert usage.cost(PriceTable.load()) == Decimal("5.5")


def test_an_unpriced_model_makes_the_cost_unknown_not_zero() -> None:
    usage = TokenUsage()
    usage.add(_result("some/NewModel", 10, 10))
    assert usage.cost(PriceTable.load()) is None


def test_a_total_cost_sums_each_models_tokens_at_its_price_and_is_unknown_if_one_has_none() -> None:
    table = PriceTable.load()
    # V3 by its short name: 1M in x 1 + 0.5M out x 4 = 3; QwQ: 2M in x 0.5 = 1
    assert table.total_cost([("DeepSeek-V3", 1_000_000, 500_000), ("Qwen/QwQ-32B", 2_000_000, 0)]) == Decimal(4)
    assert table.total_cost([]) == Decimal(0)
    assert table.total_cost([("Qwen/QwQ-32B", 1, 1), ("some/NewModel", 0, 0)]) is None


def test_your_price_file_overrides_the_packaged_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    mine = tmp_path / "prices.json"
    mine.write_text(
        json.dumps({"source": "our contract", "as_of": "2027-01-01", "prices": {"a/M": {"input": "3", "output": "9"}}})
    )
    assert PriceTable.load(mine).price_of("a/M") == ModelPrice(Decimal(3), Decimal(9))
    monkeypatch.setenv("SILICONFLOW_BATCH_PRICES", str(mine))
    assert PriceTable.load().source == "our contract"
    assert PriceTable.load().price_of("M") == ModelPrice(Decimal(3), Decimal(9))  # the short name finds it
    mine.write_text("{not json")
    with pytest.raises(sf.SiliconFlowError, match="cannot read batch prices from"):
        PriceTable.load()


def test_the_emulators_results_are_priced(tmp_path: Path) -> None:
    import httpx

    from siliconflow_batch.testing import Emulator, VirtualClock

    path = tmp_path / "in.jsonl"
    body = {"model": "deepseek-ai/DeepSeek-R1", "messages": [{"role": "user", "content": "x" * 400}]}
    path.write_text(json.dumps({"custom_id": "a", "body": body}) + "\n")
    with VirtualClock() as clock:
        emulator = Emulator(clock=clock.time, stage_seconds=5)
        http = httpx.Client(transport=emulator.transport())
        with sf.SiliconFlow(api_key=emulator.api_key, base_url="http://e/v1", http_client=http) as client:
            batch = client.batches.create(input_file_id=client.files.upload(path).id)
            usage = TokenUsage()
            for result in client.batches.results(client.batches.wait(batch.id, poll_interval=5)):
                usage.add(result)
    assert usage.by_model["deepseek-ai/DeepSeek-R1"].input_tokens == 100  # the emulator counts 4 characters a token
    assert usage.cost(PriceTable.load()) == (100 * Decimal(2) + 8 * Decimal(8)) / Decimal(1_000_000)


def test_the_packaged_prices_name_the_vendors_page_and_date_not_a_file_the_package_lacks() -> None:
    from siliconflow_batch.pricing import PriceTable

    table = PriceTable.load()
    assert "https://docs.siliconflow.cn/cn/userguide/guides/batch" in table.source
    assert ".md" not in table.source  # no file of this repository's workplace, which a user never has
    assert table.as_of == "2026-11-24"
    assert table.as_of in table.source
