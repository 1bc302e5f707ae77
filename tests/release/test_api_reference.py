"""api.md is generated from the code and held current by scripts/test."""

from __future__ import annotations

from pathlib import Path

import pytest

import api_reference
from helpers import ROOT


def test_the_committed_api_md_is_current() -> None:
    assert (ROOT / "api.md").read_text(encoding="utf-8") == api_reference.render()


def test_an_out_of_date_api_md_fails_the_check(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    stale = tmp_path / "api.md"
    stale.write_text(api_reference.render().replace("Poll until", "Wait until", 1), encoding="utf-8")
    monkeypatch.setattr(api_reference, "API_MD", stale)
    assert api_reference.main(["--check"]) == 1
    monkeypatch.setattr(api_reference, "API_MD", tmp_path / "missing.md")
    assert api_reference.main(["--check"]) == 1


def test_it_lists_every_public_name_with_its_signature() -> None:
    import siliconflow_batch as sf

    text = (ROOT / "api.md").read_text(encoding="utf-8")
    for name in sf.__all__:
        if not name.startswith("__"):
            assert f"`{name}" in text or f"class `{name}`" in text or f"## `siliconflow_batch.{name}`" in text, name
    assert "`create(*, input_file_id: str" in text
    assert "**options: Unpack[RequestOptions]" in text
    assert "class `VirtualClock`" in text
