"""write_results' lines: the response's text copied from the result line means what dumping it again wrote.

``outcomes.merged_line`` splices the vendor's response text into the line instead of parsing and dumping it; for
every shape of line (spacing, escapes, odd values, a name given twice or escaped, a carriage return, a BOM) the
line it writes reads back as the same object, with its members in the same order, as the BatchResult path's.
"""

from __future__ import annotations

import copy
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from siliconflow_batch._jobs.outcomes import merged_line, result_of_raw
from siliconflow_batch._results import parse_result_line, result_members

BASE: dict[str, Any] = {
    "id": "batch_req_1",
    "custom_id": "r",
    "response": {
        "status_code": 200,
        "request_id": "q",
        "body": {
            "choices": [
                {"index": 0, "message": {"role": "assistant", "content": 'é \u2028 "x"'}, "finish_reason": "stop"}
            ],
            "usage": {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12},
        },
    },
    "error": None,
}
values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False)
    | st.sampled_from([200, 429, 500, "200", "", "response", '"response":', "\ud800", "a\udc00b"])
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(["message", "code", "content"]), inner),
    max_leaves=6,
)
PLACES = [("response",), ("error",), ("custom_id",), ("id",), ("response", "status_code"), ("response", "body"),
          ("response", "body", "choices", 0, "message", "content"), ("extra",)]  # fmt: skip


def _old(row: tuple[Any, ...]) -> bytes:
    return json.dumps(result_of_raw(row).to_dict()).encode()  # escaped: a lone surrogate is written as \udXXX


def _same(row: tuple[Any, ...]) -> None:
    new, old = json.loads(merged_line(row)), json.loads(_old(row))
    assert new == old
    assert list(new) == list(old)
    raw = row[5]
    read = result_members(raw.decode("utf-8", "replace")) if raw is not None else None
    if read is not None:  # what it read is what parse_result_line reads, and the span is the response's text
        found, (begin, end) = read
        parsed = parse_result_line(raw, 1, "output")
        assert parsed is not None
        assert found[:4] == parsed[:4]
        assert json.loads(raw.decode()[begin:end]) == parsed.response


@given(
    changes=st.lists(st.tuples(st.sampled_from(PLACES), values), max_size=3),
    separators=st.sampled_from([(",", ":"), (", ", ": "), (" ,\t", " :  ")]),
    ascii_only=st.booleans(),
    source=st.sampled_from(["output", "error", "missing"]),
    attempts=st.integers(1, 5),
)
def test_a_merged_line_means_what_the_dumped_one_did(
    changes: list[tuple[tuple[Any, ...], Any]], separators: tuple[str, str], ascii_only: bool, source: str,
    attempts: int,
) -> None:  # fmt: skip
    line = copy.deepcopy(BASE)
    for path, value in changes:
        target: Any = line
        for step in path[:-1]:
            target = target.get(step) if isinstance(target, dict) else None
            if isinstance(target, list):
                target = target[0] if target else None
        if isinstance(target, dict):
            target[path[-1]] = value
    if not isinstance(line.get("custom_id"), str | int) or line.get("custom_id") in ("", True, False):
        line["custom_id"] = "r"
    if line.get("response") is not None and not isinstance(line["response"], dict):
        line["response"] = None
    text = json.dumps(line, separators=separators, ensure_ascii=ascii_only)
    if not ascii_only and any("\ud800" <= char <= "\udfff" for char in text):
        text = json.dumps(line, separators=separators)  # a lone surrogate has no UTF-8: the vendor escapes it
    _same((0, "r", attempts, 1, source, text.encode(), 1))


def test_odd_lines_take_the_dumped_path_and_still_agree() -> None:
    plain = json.dumps(BASE)
    odd = [
        plain.replace('"error"', '"err\\u006fr"'),  # an escaped name
        plain[:-1] + ', "response": null}',  # a name given twice: the last one counts
        plain.replace(", ", ",\r "),  # a carriage return: copied, it would split the line for some readers
        "\ufeff" + plain,  # a BOM (the first line of a file)
        "  " + plain + " \t",
        plain.replace('"custom_id": "r"', '"custom_id": 42'),
        plain.replace('"error": null', '"error": "a string"'),
        plain.replace('"response": {', '"response": {"status_code": 500, '),  # a member twice inside
    ]
    for text in odd:
        _same((0, "r", 2, 1, "output", text.encode(), 1))
    assert result_members(odd[0]) is None
    assert result_members(odd[1]) is None
    assert result_members(odd[4]) is not None  # spaces around the object are fine


def test_a_lone_surrogate_anywhere_is_written_escaped() -> None:
    # json.loads reads "\ud800" (a reply cut inside a pair); written as it reads, it has no UTF-8 at all.
    for place in [("response", "body", "choices", 0, "message", "content"), ("response", "body", "k"), ("error",)]:
        line = copy.deepcopy(BASE)
        target: Any = line
        for step in place[:-1]:
            target = target[step]
        target[place[-1]] = "x \ud800 y"
        raw = json.dumps(line).encode()
        merged = merged_line((0, "r", 1, 1, "output", raw, 1))
        merged.decode("utf-8")  # valid UTF-8
        _same((0, "r", 1, 1, "output", raw, 1))


def test_rows_not_final_take_the_dumped_path() -> None:
    _same((0, "r", 1, 0, None, None, None))
    _same((0, "r", 1, 0, "output", json.dumps(BASE).encode(), 3))  # sent back: its latest line, still pending


def test_a_line_json_refuses_is_no_result_whatever_its_layout() -> None:
    # A raw control character inside a string: json.loads refuses the line, so result_members reads none.
    for line in ['{"custom_id": "a\tb", "response": {}, "error": null}',
                 '{"id": "x\ny", "custom_id": "a", "response": {}, "error": null}']:  # fmt: skip
        assert result_members(line) is None
    assert result_members('{"id": "x", "custom_id": "a", "response": {}, "error": null}') is not None
