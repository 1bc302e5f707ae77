"""BatchResult's typed view of a chat completion: read tolerantly from every body shape collected."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from siliconflow_batch import BatchResult
from siliconflow_batch._records import Usage, result_fields
from siliconflow_batch._results import MISSING_RESULT, parse_result_line

FIXTURES = json.loads((Path(__file__).parent.parent / "fixtures" / "vendor_bodies.json").read_text(encoding="utf-8"))


def ok(body: Any, status: int = 200) -> BatchResult:
    return BatchResult("r0", {"status_code": status, "request_id": "q", "body": body}, None)


REASONING = {
    "id": "c",
    "object": "chat.completion",
    "model": "deepseek-ai/DeepSeek-R1",
    "choices": [
        {
            "index": 0,
            "message": {"role": "assistant", "content": "42", "reasoning_content": "six times seven"},
            "finish_reason": "length",
        }
    ],
    "usage": {"prompt_tokens": 7, "completion_tokens": 30, "total_tokens": 37},
}


def test_a_reasoning_models_reply_reads_typed() -> None:
    result = ok(REASONING)
    assert result.content == "42"
    assert result.reasoning_content == "six times seven"
    assert result.finish_reason == "length"
    assert result.truncated is True
    assert result.model == "deepseek-ai/DeepSeek-R1"
    assert result.usage == Usage(prompt_tokens=7, completion_tokens=30, total_tokens=37)
    assert result.error_message is None


def test_a_whole_reply_is_not_truncated_and_reasoning_is_none_without_it() -> None:
    line = FIXTURES["result_lines"][0]["line"]
    result = parse_result_line(json.dumps(line).encode(), 1, "output")
    assert result is not None
    assert (result.content, result.finish_reason, result.truncated) == ("Hello.", "stop", False)
    assert result.reasoning_content is None
    assert result.model == "gpt-3.5-turbo-0125"
    assert result.usage == Usage(22, 2, 24)


def test_the_expired_line_of_the_error_file_gives_its_message() -> None:
    line = FIXTURES["result_lines"][1]["line"]
    result = parse_result_line(json.dumps(line).encode(), 1, "error")
    assert result is not None
    assert result.error_message == (
        "batch_expired: This request could not be executed before the completion window expired."
    )
    assert result.usage is None
    assert result.finish_reason is None
    assert result.truncated is False


@pytest.mark.parametrize(
    ("body", "status", "expected"),
    [
        # OpenAI's failed line: ok is false, error null, the message deep in the body
        (
            {"error": {"message": "Invalid model", "type": "invalid_request_error", "code": "model_not_found"}},
            400,
            "HTTP 400: model_not_found: Invalid model",
        ),
        (
            {"code": 20012, "message": "Model does not exist.", "data": None},
            400,
            "HTTP 400: 20012: Model does not exist.",
        ),
        ("404 page not found", 404, "HTTP 404: 404 page not found"),
        (
            {"code": 50505, "message": "Model service overloaded.\nPlease try again later."},
            503,
            "HTTP 503: 50505: Model service overloaded. Please try again later.",
        ),
        ({"error": "rate limited"}, 429, "HTTP 429: rate limited"),
        ({"detail": "Not allowed"}, 403, "HTTP 403: Not allowed"),
        (None, 500, "HTTP 500, with no error message"),
        ({"error": {"type": "x"}}, 500, "HTTP 500, with no error message"),
    ],
)
def test_a_failed_responses_message_is_one_line_from_its_body(body: Any, status: int, expected: str) -> None:
    result = ok(body, status)
    assert result.ok is False
    assert result.error_message == expected


def test_missing_and_shapeless_failures_still_say_something() -> None:
    missing = BatchResult("r1", None, dict(MISSING_RESULT), source="missing")
    assert missing.error_message == "missing_result: neither the output nor the error file has it"
    assert BatchResult("r2", None, None).error_message == "no response and no error"
    assert BatchResult("r3", None, {"code": None}).error_message == "an error with no message"
    assert BatchResult("r4", None, {"code": 7}).error_message == "7"


def test_a_long_message_is_cut_to_one_short_line() -> None:
    result = BatchResult("r", None, {"message": "word " * 400})
    message = result.error_message
    assert message is not None
    assert len(message) <= 500
    assert "\n" not in message
    assert message.endswith("…")


def test_usage_reads_tolerantly() -> None:
    assert ok({"usage": {"prompt_tokens": 3, "completion_tokens": 4}}).usage == Usage(3, 4, 7)
    assert ok({"usage": {"prompt_tokens": "3", "completion_tokens": 4.0, "total_tokens": None}}).usage == Usage(0, 4, 0)
    assert ok({"usage": None}).usage is None
    assert ok({"usage": []}).usage is None


def test_reasoning_under_the_gateways_name_is_read_too() -> None:
    body = {"choices": [{"message": {"content": None, "reasoning": "thinking"}, "finish_reason": "length"}]}
    result = ok(body)
    assert result.reasoning_content == "thinking"
    assert result.content is None
    assert result.truncated


JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=5),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3),
    max_leaves=12,
)
KEYS = st.sampled_from(["choices", "message", "content", "usage", "finish_reason", "error", "message", "code"])
BODIES = st.recursive(
    JSONISH,
    lambda inner: st.lists(inner, max_size=2) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=20,
)


@given(
    body=BODIES,
    status=st.none() | st.integers(100, 599) | st.text(max_size=3),
    error=st.none() | st.dictionaries(KEYS, JSONISH, max_size=3),
)
def test_odd_bodies_never_raise_and_the_table_fields_agree(body: Any, status: Any, error: Any) -> None:
    result = BatchResult("r", {"status_code": status, "body": body}, error)
    usage = result.usage
    expected = (
        result.ok,
        result.content,
        result.reasoning_content,
        result.finish_reason,
        *(usage if usage is not None else (None, None, None)),
        result.error_message,
    )
    assert result_fields(result) == expected
    assert isinstance(result.truncated, bool)
    assert result.model is None or isinstance(result.model, str)
    assert result.ok or isinstance(result.error_message, str)


def _usual(**changes: Any) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": "hi", "reasoning_content": None}
    usage: dict[str, Any] = {"prompt_tokens": 1, "completion_tokens": 2, "total_tokens": 3}
    body: dict[str, Any] = {"choices": [{"message": message, "finish_reason": "stop"}], "usage": usage}
    response: dict[str, Any] = {"status_code": 200, "body": body}
    for key, value in changes.items():
        target = {"message": message, "usage": usage, "response": response, "choice": body["choices"][0]}
        where, _, name = key.partition("__")
        target[where][name] = value
    return response


@pytest.mark.parametrize(
    "changes",
    [
        {},
        {"message__reasoning_content": "why"},
        {"message__reasoning_content": None, "message__reasoning": "gateway"},
        {"message__content": None},
        {"message__content": 5},
        {"usage__total_tokens": 3.0},
        {"usage__prompt_tokens": True},
        {"response__status_code": True},
        {"response__status_code": 201},
        {"response__status_code": 500},
        {"choice__finish_reason": None},
        {"choice__message": "text"},
    ],
)
def test_the_fast_read_of_the_usual_shape_agrees_with_the_properties(changes: dict[str, Any]) -> None:
    result = BatchResult("r", _usual(**changes), None)
    usage = result.usage
    assert result_fields(result) == (
        result.ok,
        result.content,
        result.reasoning_content,
        result.finish_reason,
        *(usage if usage is not None else (None, None, None)),
        result.error_message,
    )
