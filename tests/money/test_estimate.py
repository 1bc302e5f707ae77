"""The estimate before anything is sent: it brackets what the emulator bills, per model, calibrated or not."""

from __future__ import annotations

import json
import tracemalloc
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch.estimate import (
    DEFAULT_MAX_REASONING,
    DEFAULT_MAX_TOKENS,
    DEFAULT_RATIO,
    LOW_INPUT_SHARE,
    Calibration,
    Tally,
    estimate,
    line_cost,
    upper_bound,
)
from siliconflow_batch.pricing import PriceTable, TokenUsage
from siliconflow_batch.testing import Emulator

V3 = "deepseek-ai/DeepSeek-V3"
R1 = "deepseek-ai/DeepSeek-R1"
QWQ = "Qwen/QwQ-32B"
PRICES = PriceTable.load()


def _line(i: int, model: str, content: str, **body: Any) -> dict[str, Any]:
    messages = [{"role": "user", "content": content}]
    return {"custom_id": f"r{i}", "body": {"model": model, "messages": messages, **body}}


def _workload(count: int) -> list[dict[str, Any]]:
    """Lines of three models, English and Chinese, short and long, with and without max_tokens."""
    lines = []
    for i in range(count):
        model = (V3, R1, QWQ)[i % 3]
        text = ("The quick brown fox jumps over the lazy dog. " * (1 + i % 40))[: 20 + 37 * i % 1800]
        if i % 4 == 1:
            text = "请把下面这句话翻译成英文,今天的天气很好。" * (1 + i % 25)
        extra = {"max_tokens": 64 + i % 200} if i % 2 else {}
        lines.append(_line(i, model, text, **extra))
    return lines


def _client(emulator: Emulator) -> sf.SiliconFlow:
    http = httpx.Client(transport=emulator.transport())
    return sf.SiliconFlow(api_key=emulator.api_key, base_url="http://emulator/v1", http_client=http)


def _run(emulator: Emulator, lines: list[dict[str, Any]], job_dir: Path) -> list[sf.BatchResult]:
    with _client(emulator) as client:
        job = client.jobs.run(lines, job_dir=job_dir, max_shard_lines=100, poll_interval=5)
        try:
            return list(job.results())
        finally:
            job.close()


def _actual(results: list[sf.BatchResult]) -> TokenUsage:
    usage = TokenUsage()
    for result in results:
        usage.add(result)
    return usage


def test_the_estimate_brackets_what_the_same_job_costs_on_the_emulator(emulator: Emulator, tmp_path: Path) -> None:
    lines = _workload(300)
    before = estimate(lines, PRICES)
    results = _run(emulator, lines, tmp_path / "job")
    assert all(result.ok for result in results)
    usage = _actual(results)
    actual = usage.cost(PRICES)
    assert actual is not None
    assert before.requests == len(results) == 300
    assert before.cost_low is not None
    assert before.cost_high is not None
    assert before.cost_low <= actual <= before.cost_high
    for model, used in usage.by_model.items():  # per model too, tokens and yuan
        part = before.by_model[model]
        assert part.requests == used.requests
        assert part.input_tokens * LOW_INPUT_SHARE <= used.input_tokens <= part.input_tokens
        assert used.output_tokens <= part.output_tokens_max
        price = PRICES.price_of(model)
        assert price is not None
        spent = price.cost(used.input_tokens, used.output_tokens)
        assert part.cost_low is not None
        assert part.cost_high is not None
        assert part.cost_low <= spent <= part.cost_high
    assert before.unpriced == ()
    sent = {line["custom_id"]: line for line in lines}
    for result in results:  # and line by line, as the engine will count them shard by shard
        assert result.body is not None
        measured = line_cost(sent[result.custom_id])
        counted = result.body["usage"]
        assert counted["prompt_tokens"] <= measured.input_tokens
        assert counted["completion_tokens"] <= measured.output_tokens_max


def test_calibrated_from_lines_that_ran_the_input_estimate_meets_the_counted_tokens(
    emulator: Emulator, tmp_path: Path
) -> None:
    lines = _workload(240)
    first, rest = lines[:120], lines[120:]
    sent = {line["custom_id"]: line for line in first}
    calibration = Calibration()
    for result in _run(emulator, first, tmp_path / "first"):
        assert result.body is not None
        calibration.add(sent[result.custom_id], result.body["usage"]["prompt_tokens"])
    assert calibration.by_model[V3].lines == 40
    factor = calibration.factor(V3)
    assert factor is not None
    assert factor < 1
    plain = estimate(rest, PRICES)
    calibrated = estimate(rest, PRICES, calibration=calibration)
    usage = _actual(_run(emulator, rest, tmp_path / "rest"))
    for model, used in usage.by_model.items():
        assert "calibrated from 40 lines run" in calibrated.by_model[model].ratio
        assert "calibrated" not in plain.by_model[model].ratio
        error = abs(calibrated.by_model[model].input_tokens - used.input_tokens)
        assert error < abs(plain.by_model[model].input_tokens - used.input_tokens)
        assert error <= used.input_tokens * Decimal("0.1")
    actual = usage.cost(PRICES)
    assert actual is not None
    assert calibrated.cost_low is not None
    assert calibrated.cost_high is not None
    assert calibrated.cost_low <= actual <= calibrated.cost_high
    assert calibrated.cost_high < plain.cost_high  # type: ignore[operator]


def test_input_tokens_follow_the_stated_rates_for_ascii_and_other_characters() -> None:
    english = line_cost(_line(0, V3, "a" * 100))
    chinese = line_cost(_line(0, V3, "天" * 100))
    assert (english.ascii_chars, english.other_chars, english.messages) == (100, 0, 1)
    assert english.input_tokens == 30 + 4  # 0.3 a character, 4 for the message
    assert (chinese.ascii_chars, chinese.other_chars) == (0, 100)
    assert chinese.input_tokens == 60 + 4
    mixed = line_cost(_line(0, V3, "ab天"))
    assert mixed.input_tokens == 2 + 4  # 0.6 + 0.6 = 1.2, rounded up
    for measured in (english, chinese, mixed):  # the stated ratio's own arithmetic gives the same
        assert DEFAULT_RATIO.tokens(measured.ascii_chars, measured.other_chars, 1) == measured.input_tokens
    report = estimate([_line(0, V3, "a" * 100)], PRICES)
    assert report.by_model[V3].chars_per_token == Decimal("2.94")  # 100 characters, 34 tokens
    assert "0.3 token an ASCII character, 0.6 any other, plus 4 a message" in report.by_model[V3].ratio
    assert "api-docs.deepseek.com" in report.by_model[V3].ratio


def test_every_part_of_the_prompt_counts_messages_parts_and_tools() -> None:
    body = {
        "model": V3,
        "messages": [
            {"role": "system", "content": "s" * 10},
            {"role": "user", "content": [{"type": "text", "text": "t" * 20}, {"type": "text", "text": "天"}]},
        ],
        "tools": [{"type": "function", "function": {"name": "f"}}],
    }
    measured = line_cost({"custom_id": "a", "body": body})
    tools = len(json.dumps(body["tools"]))
    assert measured.messages == 2
    assert (measured.ascii_chars, measured.other_chars) == (30 + tools, 1)


def test_the_output_bound_is_max_tokens_else_the_models_documented_maximum_else_the_named_default() -> None:
    assert line_cost(_line(0, V3, "x", max_tokens=100)).output_tokens_max == 100
    assert line_cost(_line(0, V3, "x", max_tokens=100)).output_from == "max_tokens"
    # A reasoning model's max_tokens leaves out its chain of thought: its documented maximum is added.
    assert line_cost(_line(0, R1, "x", max_tokens=100)).output_tokens_max == 100 + 32768
    assert line_cost(_line(0, R1, "x")).output_tokens_max == 16384 + 32768
    assert line_cost(_line(0, R1, "x")).output_from == "model"
    assert line_cost(_line(0, QWQ, "x")).output_tokens_max == 32768 + 16384
    assert line_cost(_line(0, "Pro/deepseek-ai/DeepSeek-R1", "x")).output_tokens_max == 16384 + 32768
    unknown = line_cost(_line(0, "some/NewModel", "x"))
    assert (unknown.output_tokens_max, unknown.output_from) == (DEFAULT_MAX_TOKENS, "default")
    thinking = line_cost(_line(0, V3, "x", max_tokens=10, enable_thinking=True))
    assert thinking.output_tokens_max == 10 + DEFAULT_MAX_REASONING
    assert line_cost(_line(0, V3, "x", max_tokens=10, n=3)).output_tokens_max == 30
    for odd in (0, -5, True, "100", 1.5):  # not a count: the model's maximum
        assert line_cost(_line(0, V3, "x", max_tokens=odd)).output_from == "default"
    report = estimate([_line(0, V3, "x", max_tokens=5), _line(1, V3, "x")], PRICES)
    assert "each line's max_tokens" in report.by_model[V3].output
    assert f"{DEFAULT_MAX_TOKENS} tokens where a line has no max_tokens" in report.by_model[V3].output
    assert "times n" not in report.by_model[V3].output


def test_a_model_with_no_price_is_unknown_never_zero_and_so_are_the_totals() -> None:
    lines = [_line(0, V3, "x", max_tokens=10), _line(1, "some/NewModel", "y", max_tokens=10)]
    report = estimate(lines, PRICES, balance=Decimal(1000))
    assert report.unpriced == ("some/NewModel",)
    assert report.by_model["some/NewModel"].cost_low is None
    assert report.by_model["some/NewModel"].cost_high is None
    assert (report.by_model[V3].cost_high or 0) > 0
    assert report.cost_low is None
    assert report.cost_high is None
    assert report.covers(Decimal(1000)) is None
    assert report.covered is None
    assert upper_bound(lines, PRICES) is None
    assert report.to_dict()["cost_high"] is None
    # A line that cannot be read has no model, so no price: unknown as well.
    assert upper_bound([b"{not json\n"], PRICES) is None
    assert estimate([b'{"custom_id": "a"}\n'], PRICES).unpriced == ("",)


def test_replace_model_prices_every_line_at_that_model() -> None:
    lines = [{"custom_id": "a", "body": {"messages": [{"role": "user", "content": "x"}], "max_tokens": 10}}]
    assert estimate(lines, PRICES).cost_high is None
    replaced = estimate(lines, PRICES, replace_model=V3)
    assert list(replaced.by_model) == [V3]
    assert replaced.cost_high == PRICES.prices[V3].cost(line_cost(lines[0], replace_model=V3).input_tokens, 10)


def test_the_balance_covers_the_upper_bound_or_not() -> None:
    lines = [_line(0, V3, "x" * 10, max_tokens=1_000_000)]  # 1M output tokens at 4 yuan, 7 input tokens at 1
    high = Decimal(4) + Decimal(7) / Decimal(1_000_000)
    assert estimate(lines, PRICES).cost_high == high
    assert estimate(lines, PRICES, balance=high).covered is True
    assert estimate(lines, PRICES, balance=Decimal(4)).covered is False
    assert estimate(lines, PRICES).covered is None  # no balance given
    assert estimate(lines, PRICES).covers(Decimal(5)) is True


def test_a_shards_upper_bound_is_the_exact_sum_of_its_lines_whichever_way_they_are_cut() -> None:
    lines = _workload(90)
    raw = [json.dumps(line, ensure_ascii=False).encode() + b"\n" for line in lines]
    whole = upper_bound(raw, PRICES)
    assert whole is not None
    assert whole == upper_bound(lines, PRICES)  # bytes or dicts, the same
    per_line = [line_cost(line).upper_bound(PRICES) for line in raw]
    assert None not in per_line
    assert sum(filter(None, per_line), Decimal(0)) == whole
    shards = [Tally(PRICES) for _ in range(4)]
    for index, line in enumerate(raw):
        shards[index % 4].add(line)
    assert sum((shard.upper_bound or Decimal(0)) for shard in shards) == whole
    assert sum(shard.requests for shard in shards) == 90
    assert estimate(raw, PRICES).cost_high == whole
    low = [line_cost(line).cost_low(PRICES) for line in raw]
    assert None not in low
    assert sum(filter(None, low), Decimal(0)) == estimate(raw, PRICES).cost_low


def test_count_and_merge_give_the_tally_that_add_gives_line_by_line() -> None:
    lines = [*_workload(60), _line(60, V3, "pick two", n=2), _line(61, "unknown/model", "hello")]
    raw = [json.dumps(line, ensure_ascii=False).encode() for line in lines]
    added = Tally(PRICES)
    models = [added.add(line).model for line in raw]
    counted, parts = Tally(PRICES), [Tally(PRICES) for _ in range(3)]
    assert [counted.count(line) for line in raw] == models
    for index, line in enumerate(raw):
        parts[index % 3].count(line)
    merged = Tally(PRICES)
    for part in parts:
        merged.merge(part)
    for tally in (counted, merged):
        assert tally.estimate() == added.estimate()  # requests, characters, tokens, output rules (n), unpriced
        assert tally.requests == len(raw)
    assert "times n" in merged.estimate().by_model[V3].output


def test_a_file_opened_for_reading_is_estimated_line_by_line_blank_lines_left_out(tmp_path: Path) -> None:
    path = tmp_path / "in.jsonl"
    path.write_bytes(b"".join(json.dumps(line).encode() + b"\n\n" for line in _workload(30)))
    with path.open("rb") as handle:
        from_file = estimate(handle, PRICES)
    assert from_file == estimate(_workload(30), PRICES)
    assert from_file.requests == 30


def test_the_estimate_is_json_ready_and_names_its_prices() -> None:
    report = estimate(_workload(6), PRICES, balance=Decimal("12.50"))
    data = json.loads(report.to_json())
    assert data["balance"] == "12.50"
    assert data["prices_as_of"] == PRICES.as_of
    assert data["prices_source"] == PRICES.source
    assert set(data["by_model"]) == {V3, R1, QWQ}
    assert Decimal(data["cost_high"]) == report.cost_high


def test_memory_stays_flat_over_many_lines() -> None:
    def lines(count: int) -> Iterator[bytes]:
        for i in range(count):
            yield json.dumps(_line(i, (V3, "some/NewModel")[i % 2], "hello " * 20, max_tokens=50)).encode()

    tracemalloc.start()
    try:
        estimate(lines(20_000), PRICES)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 256 * 1024  # 20,000 lines are about 2.5 MB of JSON; nothing of them is kept


@pytest.mark.parametrize("prompt_tokens", [-1, True, "10", None])
def test_a_calibration_skips_a_result_without_a_usable_count(prompt_tokens: Any) -> None:
    calibration = Calibration()
    calibration.add(_line(0, V3, "x"), prompt_tokens)
    assert calibration.factor(V3) is None
    assert calibration.to_dict() == {"by_model": {}}


def test_prices_and_output_limits_name_a_model_by_one_rule_full_or_unique_short_name() -> None:
    from siliconflow_batch._model_names import entry_for
    from siliconflow_batch.pricing import ModelPrice

    for name in (R1, "DeepSeek-R1", "Pro/deepseek-ai/DeepSeek-R1"):
        assert PRICES.price_of(name) == PRICES.prices[R1]
        assert line_cost(_line(0, name, "x")).output_from == "model"
    assert entry_for({"a/M": 1, "b/M": 2, "c/N": 3}, "M") is None  # two entries are "M": which is meant is unknown
    assert entry_for({"a/M": 1, "b/M": 2, "c/N": 3}, "b/M") == 2
    assert entry_for({"a/M": 1, "c/N": 3}, "x/N") == 3
    shared = PriceTable(prices={"a/M": ModelPrice(Decimal(1), Decimal(1)), "b/M": ModelPrice(Decimal(2), Decimal(2))})
    assert shared.price_of("M") is None
