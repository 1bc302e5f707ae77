"""One style of public model: each has to_dict and to_json that agree, and no public annotation holds Unset."""

from __future__ import annotations

import inspect
import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

import siliconflow_batch as sf
from siliconflow_batch.pricing import ModelPrice, ModelUsage, PriceTable, TokenUsage
from siliconflow_batch.types import BatchPage, FileObject
from siliconflow_batch_generated import models

from helpers import GET_PAGE_BODY, TOKEN360_BODY


def _examples() -> list[Any]:
    batch = sf.Batch.from_dict(TOKEN360_BODY)
    return [
        pytest.param(batch, id="Batch"),
        pytest.param(BatchPage(data=[batch], has_more=False, first_id=batch.id), id="BatchPage"),
        pytest.param(FileObject(id="file-1", bytes=10, extra={"x": 1}), id="FileObject"),
        pytest.param(sf.AccountInfo(id="u", charge_balance=Decimal("8.50")), id="AccountInfo"),
        pytest.param(sf.JobStatus("j", 2, 1, 1, 0, usage={"m": ModelUsage(1, 10, 2)}, cost=Decimal(1)), id="JobStatus"),
        pytest.param(sf.BatchResult("c1", {"status_code": 200, "body": {}}, None), id="BatchResult"),
        pytest.param(sf.RequestCounts(3, 2, 1), id="RequestCounts"),
        pytest.param(sf.Problem("custom_id", "must be unique", line=4), id="Problem"),
        pytest.param(sf.ValidationReport(Path("in.jsonl"), line_count=3, models={"m": 1}), id="ValidationReport"),
        pytest.param(ModelPrice(Decimal(1), Decimal(4)), id="ModelPrice"),
        pytest.param(PriceTable.load(), id="PriceTable"),
        pytest.param(TokenUsage(by_model={"m": ModelUsage(1, 10, 2)}), id="TokenUsage"),
    ]


@pytest.mark.parametrize("model", _examples())
def test_each_public_model_gives_json_that_agrees_with_its_dict(model: Any) -> None:
    data = model.to_dict()
    assert isinstance(data, dict)
    assert json.loads(model.to_json()) == data
    assert json.loads(model.to_json(indent=None)) == data


def test_a_batch_dict_is_the_json_the_server_sent() -> None:
    assert sf.Batch.from_dict(GET_PAGE_BODY).to_dict() == GET_PAGE_BODY


def test_a_batch_repr_shows_what_matters() -> None:
    text = repr(sf.Batch.from_dict(TOKEN360_BODY))
    assert text.startswith("Batch(id=")
    assert "status='completed'" in text
    assert "requests=2/2" in text
    assert "output_file_id=" in text


def _public_classes() -> list[Any]:
    found = [getattr(sf, name) for name in sf.__all__ if inspect.isclass(getattr(sf, name))]
    found += [getattr(models, name) for name in models.__all__]
    return [pytest.param(cls, id=cls.__name__) for cls in found]


@pytest.mark.parametrize("cls", _public_classes())
def test_no_public_annotation_holds_unset(cls: type) -> None:
    annotations: dict[str, Any] = {}
    for klass in reversed(cls.__mro__):
        annotations.update(getattr(klass, "__annotations__", {}))
    assert not [name for name, hint in annotations.items() if "Unset" in str(hint)]
