"""Bodies from other OpenAI-compatible vendors' public docs (tests/fixtures/vendor_bodies.json) through the
public API: every one parses, keeps its essentials, and reads sensibly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

import siliconflow_batch as sf

from fakes import FakeAPI, batch, make_client, ok, run, stream

FIXTURES = json.loads((Path(__file__).parent.parent / "fixtures" / "vendor_bodies.json").read_text(encoding="utf-8"))


def _ids(entries: list[dict[str, Any]]) -> list[str]:
    return [f"{e['vendor']}: {e['source'][:40]}" for e in entries]


@pytest.mark.parametrize("entry", FIXTURES["batches"], ids=_ids(FIXTURES["batches"]))
def test_a_vendors_batch_parses_and_reads_sensibly(mode: str, api: FakeAPI, entry: dict[str, Any]) -> None:
    api.on("GET /batches/b", ok(entry["body"]))
    got = run(make_client(mode, api).batches.retrieve("b"))
    expect = entry["expect"]
    assert got.id == expect["id"]
    assert got.status == expect["status"]
    assert tuple(got.counts) == tuple(expect["counts"])
    assert got.is_terminal is expect["terminal"]
    if "errors" in expect:
        assert got.error_messages() == expect["errors"]
    if "created" in expect:
        assert got.created_at_datetime is not None
        assert got.created_at_datetime.isoformat() == expect["created"]
    assert isinstance(got.to_dict(), dict)


@pytest.mark.parametrize("entry", FIXTURES["pages"], ids=_ids(FIXTURES["pages"]))
def test_a_vendors_page_parses(mode: str, api: FakeAPI, entry: dict[str, Any]) -> None:
    api.on("GET /batches", ok(entry["body"]))
    assert [b.id for b in run(make_client(mode, api).batches.list())] == entry["expect"]["ids"]


def test_vendors_result_lines_read_as_results(mode: str, api: FakeAPI) -> None:
    lines = [json.dumps(e["line"]).encode() + b"\n" for e in FIXTURES["result_lines"]]
    api.on("GET /files/out/content", stream(lines))
    done = sf.Batch.from_dict(batch(status="completed", output_file_id="out"))
    results = run(make_client(mode, api).batches.results(done))
    for result, entry in zip(results, FIXTURES["result_lines"], strict=True):
        assert (result.custom_id, result.ok, result.content) == tuple(
            entry["expect"][k] for k in ("custom_id", "ok", "content")
        )


def test_every_fixture_names_its_source() -> None:
    entries = FIXTURES["batches"] + FIXTURES["pages"] + FIXTURES["result_lines"]
    assert len({e["vendor"] for e in entries}) >= 5
    assert all(e["source"].strip() for e in entries)
