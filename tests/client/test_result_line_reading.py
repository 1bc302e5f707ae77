"""A result line is read by the C scanner alone when it can be, and means what ``json.loads`` reads it as."""

from __future__ import annotations

import json
import re

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from siliconflow_batch._results import loads_object

_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3),
    max_leaves=8,
)
_AROUND = st.sampled_from(["", " ", "\t", "\r", "\n", " \r\n", "x", "}", "{", ",1", "\x00"])


@given(value=_JSON, before=_AROUND, after=_AROUND)
@example(value={"a": 1}, before="", after="")
@example(value={"a": 1}, before="", after="\r")
@example(value={"a": 1}, before="", after="}")
@example(value={"a": [1] * 3}, before="", after=" x")
def test_a_line_reads_as_json_loads_reads_it(value: object, before: str, after: str) -> None:
    text = before + json.dumps(value) + after
    try:
        expected = json.loads(text)
    except ValueError as error:
        with pytest.raises(ValueError, match=re.escape(str(error))):
            loads_object(text)
    else:
        assert loads_object(text) == expected


def test_a_deep_line_fails_as_json_loads_fails() -> None:
    text = '{"a": ' + "[" * 100_000 + "]" * 100_000 + "}"
    with pytest.raises(RecursionError):
        json.loads(text)
    with pytest.raises(RecursionError):
        loads_object(text)
