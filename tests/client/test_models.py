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


def _price_file() -> dict[str, Any]:
    """What PriceTable.load() reads: the package's price file, as the dict its to_dict() must give."""
    data = json.loads((Path(sf.__file__).parent / "data" / "batch_prices.json").read_text(encoding="utf-8"))
    prices = {
        m: {"input_per_million": p["input"], "output_per_million": p["output"]} for m, p in data["prices"].items()
    }
    return {"prices": prices, "source": data["source"], "as_of": data["as_of"]}


def _examples() -> list[Any]:
    """Each public model, and the JSON its to_dict() must give: what the server sent, or what the model holds."""
    batch = sf.Batch.from_dict(TOKEN360_BODY)
    usage = {"m": {"requests": 1, "input_tokens": 10, "output_tokens": 2}}
    nulls = dict.fromkeys(["name", "email", "is_admin", "status", "balance", "total_balance"])
    return [
        pytest.param(batch, TOKEN360_BODY, id="Batch"),
        pytest.param(
            BatchPage(data=[batch], has_more=False, first_id=batch.id),
            {"data": [TOKEN360_BODY], "has_more": False, "first_id": batch.id, "last_id": None},
            id="BatchPage",
        ),
        pytest.param(
            FileObject(id="file-1", bytes=10, extra={"x": 1}),
            {
                **dict.fromkeys(["created_at", "filename", "purpose", "line_count"]),
                **{"id": "file-1", "bytes": 10, "object": "file", "extra": {"x": 1}},
            },
            id="FileObject",
        ),
        pytest.param(
            sf.AccountInfo(id="u", charge_balance=Decimal("8.50")),
            {**nulls, "id": "u", "charge_balance": "8.50", "extra": {}},
            id="AccountInfo",
        ),
        pytest.param(
            sf.JobStatus("j", 2, 1, 1, 0, usage={"m": ModelUsage(1, 10, 2)}, cost=Decimal(1)),
            {
                "job_id": "j",
                "done": True,
                "cancelled": False,
                "requests": {"total": 2, "succeeded": 1, "failed": 1, "pending": 0, "budget": 0},
                "batches": {},
                "attempts": {},
                "resubmitted": 0,
                "running_done": 0,
                "usage": usage,
                "cost": "1",
                "spent": "1",
                "committed": None,
                "max_cost": None,
                "estimate": None,
                "money": {},
            },
            id="JobStatus",
        ),
        pytest.param(
            sf.BatchResult("c1", {"status_code": 200, "body": {}}, None),
            {
                "custom_id": "c1",
                "ok": True,
                "status_code": 200,
                "source": "output",
                "content": None,
                "error": None,
                "response": {"status_code": 200, "body": {}},
                "attempts": 1,
            },
            id="BatchResult",
        ),
        pytest.param(sf.RequestCounts(3, 2, 1), {"total": 3, "completed": 2, "failed": 1}, id="RequestCounts"),
        pytest.param(
            sf.Problem("custom_id", "must be unique", line=4),
            {"field": "custom_id", "message": "must be unique", "line": 4},
            id="Problem",
        ),
        pytest.param(
            sf.ValidationReport(Path("in.jsonl"), line_count=3, models={"m": 1}),
            {"path": "in.jsonl", "problems": [], "line_count": 3, "models": {"m": 1}, "custom_ids": []},
            id="ValidationReport",
        ),
        pytest.param(
            ModelPrice(Decimal(1), Decimal(4)), {"input_per_million": "1", "output_per_million": "4"}, id="ModelPrice"
        ),
        pytest.param(PriceTable.load(), _price_file(), id="PriceTable"),
        pytest.param(TokenUsage(by_model={"m": ModelUsage(1, 10, 2)}), {"by_model": usage}, id="TokenUsage"),
    ]


@pytest.mark.parametrize(("model", "expected"), _examples())
def test_each_public_model_gives_json_that_agrees_with_its_dict(model: Any, expected: dict[str, Any]) -> None:
    data = model.to_dict()
    assert data == expected  # what the model holds, not an empty or partial dict
    assert json.loads(model.to_json()) == expected
    assert json.loads(model.to_json(indent=None)) == expected
    assert "\n" in model.to_json()  # indented by default
    assert "\n" not in model.to_json(indent=None)


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
