"""Prices as data: a price file is checked whole, and a bad entry is named in one line; no price means unknown."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import siliconflow_batch as sf
from siliconflow_batch.estimate import estimate
from siliconflow_batch.pricing import ModelPrice, PriceTable


def _file(tmp_path: Path, data: Any) -> Path:
    path = tmp_path / "prices.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data), encoding="utf-8")
    return path


def _prices(**models: Any) -> dict[str, Any]:
    return {"source": "our contract", "as_of": "2027-01-01", "prices": models}


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (_prices(**{"Qwen/QwQ-32B": {"input": "abc", "output": "2"}}), 'model "Qwen/QwQ-32B": "input" is not a number'),
        (_prices(**{"a/M": {"input": "1", "output": "-0.5"}}), 'model "a/M": "output" is negative'),
        (_prices(**{"a/M": {"input": -1, "output": 2}}), 'model "a/M": "input" is negative'),
        (_prices(**{"a/M": {"output": "2"}}), 'model "a/M": "input" is missing'),
        (_prices(**{"a/M": {"input": "1", "output": None}}), 'model "a/M": "output" is not a number (got None)'),
        (_prices(**{"a/M": {"input": True, "output": "1"}}), 'model "a/M": "input" is not a number'),
        (_prices(**{"a/M": {"input": "NaN", "output": "1"}}), 'model "a/M": "input" is not a number'),
        (_prices(**{"a/M": {"input": "Infinity", "output": "1"}}), 'model "a/M": "input" is not a number'),
        (_prices(**{"a/M": ["1", "2"]}), 'model "a/M": must be an object with "input" and "output", not a list'),
        ({"prices": ["a/M"]}, '"prices" must be an object of model'),
        ({"source": "x"}, '"prices" must be an object of model'),
        ([], "the file must hold a JSON object, not a list"),
        ({**_prices(), "currency": "USD"}, '"currency" must be "CNY" (prices are in yuan), got \'USD\''),
        ({**_prices(), "as_of": 20270101}, '"as_of" must be a string, not int'),
        ("{not json", "not valid JSON"),
    ],
)
def test_a_bad_price_file_is_refused_in_one_line_naming_the_file_and_the_entry(
    tmp_path: Path, data: Any, message: str
) -> None:
    path = _file(tmp_path, data)
    with pytest.raises(sf.SiliconFlowError) as raised:
        PriceTable.load(path)
    text = str(raised.value)
    assert text.startswith(f"cannot read batch prices from {path}: ")
    assert message in text
    assert "\n" not in text


def test_the_same_check_applies_to_the_file_the_environment_names(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = _file(tmp_path, _prices(**{"a/M": {"input": "x", "output": "1"}}))
    monkeypatch.setenv("SILICONFLOW_BATCH_PRICES", str(path))
    with pytest.raises(sf.SiliconFlowError, match=r'model "a/M": "input" is not a number'):
        PriceTable.load()
    with pytest.raises(sf.SiliconFlowError, match=r"cannot read batch prices from .*missing\.json: "):
        PriceTable.load(tmp_path / "missing.json")


def test_prices_may_be_numbers_or_decimal_strings_and_zero_is_a_price(tmp_path: Path) -> None:
    models = {"a/M": {"input": 1.5, "output": 6}, "b/N": {"input": " 0.25 ", "output": "0"}}
    table = PriceTable.load(_file(tmp_path, _prices(**models)))
    assert table.price_of("a/M") == ModelPrice(Decimal("1.5"), Decimal(6))
    assert table.price_of("b/N") == ModelPrice(Decimal("0.25"), Decimal(0))
    assert (table.source, table.as_of) == ("our contract", "2027-01-01")


def test_the_packaged_file_keeps_its_source_and_date_and_passes_the_check() -> None:
    table = PriceTable.load()
    assert table.as_of
    assert table.as_of in table.source
    assert table.prices


def test_a_model_your_file_does_not_price_is_unknown_in_the_estimate_never_zero(tmp_path: Path) -> None:
    table = PriceTable.load(_file(tmp_path, _prices(**{"a/M": {"input": "0", "output": "0"}})))
    messages = [{"role": "user", "content": "hi"}]
    lines = [
        {"custom_id": "a", "body": {"model": "a/M", "messages": messages}},
        {"custom_id": "b", "body": {"model": "deepseek-ai/DeepSeek-V3", "messages": messages}},
    ]
    report = estimate(lines, table)
    assert report.by_model["a/M"].cost_high == 0  # a price of zero is a price
    assert report.by_model["deepseek-ai/DeepSeek-V3"].cost_high is None
    assert report.unpriced == ("deepseek-ai/DeepSeek-V3",)
    assert report.cost_high is None
    assert estimate(lines[:1], table).cost_high == 0
