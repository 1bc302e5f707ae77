"""The vendor's limits are stated once, in siliconflow_batch.validation; this holds them to spec/openapi.yaml."""

from __future__ import annotations

import re
from typing import Any

import yaml

from siliconflow_batch import cli
from siliconflow_batch.validation import (
    CHAT_COMPLETIONS,
    MAX_METADATA_PAIRS,
    MAX_METADATA_VALUE,
    MAX_WINDOW_HOURS,
    MIN_PAGE_LIMIT,
    MIN_WINDOW_HOURS,
)

from helpers import ROOT


def _create_body() -> dict[str, Any]:
    spec = yaml.safe_load((ROOT / "spec" / "openapi.yaml").read_text(encoding="utf-8"))
    schema: dict[str, Any] = spec["paths"]["/batches"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    properties: dict[str, Any] = schema["properties"]
    return properties


def test_the_window_bounds_are_the_specs() -> None:
    pattern = re.compile(_create_body()["completion_window"]["pattern"])
    accepted = [hours for hours in range(1, 1000) if pattern.fullmatch(f"{hours}h")]
    assert (min(accepted), max(accepted)) == (MIN_WINDOW_HOURS, MAX_WINDOW_HOURS)
    assert len(accepted) == MAX_WINDOW_HOURS - MIN_WINDOW_HOURS + 1


def test_the_metadata_limits_and_endpoint_are_the_specs() -> None:
    body = _create_body()
    assert body["metadata"]["maxProperties"] == MAX_METADATA_PAIRS
    assert body["metadata"]["additionalProperties"]["maxLength"] == MAX_METADATA_VALUE
    assert body["endpoint"]["enum"] == [CHAT_COMPLETIONS]
    assert MIN_PAGE_LIMIT == 1


def test_the_cli_help_states_the_same_window() -> None:
    import contextlib
    import io

    shown = io.StringIO()
    with contextlib.redirect_stdout(shown), contextlib.suppress(SystemExit):
        cli.main(["submit", "--help"])
    assert f"{MIN_WINDOW_HOURS}h..{MAX_WINDOW_HOURS}h" in shown.getvalue()
