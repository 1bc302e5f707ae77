"""Every public model is an attrs class (attrs.evolve, asdict and fields work), and timestamps sent as text."""

from __future__ import annotations

import importlib
import logging
import pkgutil
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import siliconflow_batch_generated.models as generated
from siliconflow_batch import AccountInfo, BatchPage, FileObject, JobStatus, Problem, ValidationReport
from siliconflow_batch.pricing import ModelPrice, ModelUsage, PriceTable, TokenUsage
from siliconflow_batch.types import Batch, BatchStatus
from siliconflow_batch_generated.models import BatchList, BatchMetadata, BatchRequestCounts

from fakes import batch


def _generated_models() -> list[type[Any]]:
    found = []
    for info in pkgutil.iter_modules(generated.__path__):
        module = importlib.import_module(f"{generated.__name__}.{info.name}")
        found += [obj for obj in vars(module).values() if isinstance(obj, type) and obj.__module__ == module.__name__]
    return [cls for cls in found if hasattr(cls, "from_dict")]


def test_every_generated_model_is_an_attrs_class() -> None:
    models = _generated_models()
    assert len(models) >= 15
    assert [cls.__name__ for cls in models if not attrs.has(cls)] == []


RECORDS: list[Any] = [
    Batch.from_dict(batch()),
    FileObject("file-1", bytes=10, created_at=1700000000, filename="in.jsonl", purpose="batch", line_count=2),
    BatchPage([], False),
    AccountInfo("u1", status="normal", balance=Decimal("1.00"), charge_balance=Decimal("88.00")),
    JobStatus("j", total=3, succeeded=2, failed=1, pending=0),
    Problem("custom_id", "is missing", 3),
    ValidationReport(Path("in.jsonl"), [Problem("custom_id", "is missing", 3)], 3),
    ModelPrice(Decimal(1), Decimal(4)),
    PriceTable({"m": ModelPrice(Decimal(1), Decimal(4))}, "guide", "2026-11-01"),
    ModelUsage(1, 10, 20),
    TokenUsage({"m": ModelUsage(1, 10, 20)}),
]


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: type(r).__name__)
def test_attrs_fields_asdict_and_evolve_work_on_every_public_record(record: Any) -> None:
    assert attrs.has(type(record))
    names = [f.name for f in attrs.fields(type(record))]
    assert names
    data = attrs.asdict(record, recurse=False)
    assert list(data)[: len(names)] == names
    first = names[0]
    copy = attrs.evolve(record, **{first: getattr(record, first)})
    assert copy == record
    assert copy is not record


PARSED: list[Any] = [
    Batch.from_dict(batch(metadata={"k": "v"}, request_counts={"total": 2, "completed": 1, "failed": 1}, x=1)),
    BatchList.from_dict({"object": "list", "data": [batch()], "has_more": False}),
    BatchRequestCounts.from_dict({"total": None}),
    BatchMetadata.from_dict({"k": "v"}),
]


@pytest.mark.parametrize("parsed", PARSED, ids=lambda r: type(r).__name__)
def test_from_dict_sets_every_field_as_the_attrs_init_would(parsed: Any) -> None:
    # from_dict fills the slots itself, without calling __init__: a field it forgot would be unset (AttributeError).
    fields = attrs.fields(type(parsed))
    values = {f.alias: getattr(parsed, f.name) for f in fields if f.init}
    assert [f.name for f in fields if not f.init] == ([] if type(parsed) is BatchMetadata else ["_nulls"])
    built = type(parsed)(**values)
    assert built == parsed
    assert {**attrs.asdict(parsed, recurse=False), "_nulls": 0} == {**attrs.asdict(built, recurse=False), "_nulls": 0}
    assert built.to_dict() == {k: v for k, v in parsed.to_dict().items() if v is not None}  # nulls are from_dict's


def test_evolve_changes_a_batch_and_keeps_its_type() -> None:
    original = Batch.from_dict(batch(status="in_queue"))
    moved = attrs.evolve(original, status=BatchStatus.COMPLETED)
    assert type(moved) is Batch
    assert moved.is_terminal
    assert not original.is_terminal


@pytest.mark.parametrize(
    "sent",
    ["2025-03-11T09:30:13Z", "2025-03-11T17:30:13+08:00", "2025-03-11 09:30:13", "Tue, 11 Mar 2025 09:30:13 GMT"],
    ids=["iso-z", "iso-offset", "space-utc", "rfc1123"],
)
def test_a_timestamp_sent_as_text_reads_as_the_second_it_names(sent: str, caplog: pytest.LogCaptureFixture) -> None:
    from siliconflow_batch_generated import checks

    checks._WARNED.clear()
    with caplog.at_level(logging.WARNING, logger="siliconflow_batch"):
        parsed = Batch.from_dict(batch(created_at=sent, completed_at=sent))
    assert parsed.created_at == 1741685413
    assert parsed.completed_at == 1741685413
    warned = [r.getMessage() for r in caplog.records]
    assert sum("Batch.created_at" in m for m in warned) == 1  # one warning, naming the field
    assert sum("Batch.completed_at" in m for m in warned) == 1


def test_text_that_is_no_time_keeps_its_raw_value() -> None:
    raw: Any = Batch.from_dict(batch(completed_at="soon")).completed_at
    assert raw == "soon"


_ODD = st.one_of(st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), st.text(max_size=3))


@settings(max_examples=300, deadline=None)
@given(
    counts=st.dictionaries(st.sampled_from(["total", "completed", "failed", "other"]), _ODD, max_size=4),
    metadata=st.dictionaries(st.text(max_size=3), _ODD, max_size=3),
)
def test_a_nested_model_built_in_place_is_the_one_its_own_from_dict_builds(
    counts: dict[str, Any], metadata: dict[str, Any]
) -> None:
    # Batch.from_dict builds the usual request_counts and metadata itself, without calling their from_dict:
    # whatever the nested objects hold, the result is the same object (fields, extras, nulls, to_dict).
    import logging as _logging

    _logging.disable(_logging.WARNING)  # the tolerant reader's warnings are tested elsewhere
    try:
        parsed = Batch.from_dict(batch(request_counts=counts, metadata=metadata))
        own_counts, own_metadata = BatchRequestCounts.from_dict(counts), BatchMetadata.from_dict(metadata)
    finally:
        _logging.disable(_logging.NOTSET)
    for got, own in ((parsed.request_counts, own_counts), (parsed.metadata, own_metadata)):
        assert type(got) is type(own)
        assert attrs.asdict(got, recurse=False) == attrs.asdict(own, recurse=False)
        assert got.to_dict() == own.to_dict()


def test_a_parsed_model_holds_its_own_copy_of_the_maps_it_was_given() -> None:
    sent = batch(metadata={"k": "v"}, request_counts={"total": 1, "completed": 1, "failed": 0})
    parsed = Batch.from_dict(sent)
    assert parsed.metadata is not None
    assert parsed.request_counts is not None
    parsed.metadata["k2"] = "x"
    parsed.request_counts["extra"] = 1
    assert sent["metadata"] == {"k": "v"}
    assert sent["request_counts"] == {"total": 1, "completed": 1, "failed": 0}
