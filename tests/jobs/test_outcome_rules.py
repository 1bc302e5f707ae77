"""Which line outcomes a job sends again: one row per rule, so a change to any rule fails the row that names it.

Each case is one request in an ended shard whose result file holds the case's line (or no line at all), read into
the ledger by ``ingest`` as a job does: the request is then final (``ok`` or ``failed``) or back to wait for a
new shard (``retry``).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from siliconflow_batch._jobs.input import ShardLimits, form_shards, spool
from siliconflow_batch._jobs.ledger import Ledger, ShardRow
from siliconflow_batch._jobs.outcomes import ingest
from siliconflow_batch._results import Source

from job_support import request


def _response(status: int, body: dict[str, Any]) -> dict[str, Any]:
    return {"custom_id": "r0", "response": {"status_code": status, "request_id": "q", "body": body}, "error": None}


def _failure(status: int, code: Any) -> dict[str, Any]:
    return _response(status, {"error": {"message": "no", "type": "server_error", "code": code}})


def _error_line(code: Any) -> dict[str, Any]:
    return {"custom_id": "r0", "response": None, "error": {"code": code, "message": "no"}}


def _one_shard(tmp_path: Path, count: int) -> tuple[Ledger, ShardRow]:
    """A ledger whose input of ``count`` requests (r0...) is spooled and cut into its one shard, sent once."""
    (tmp_path / "in.jsonl").write_text("".join(json.dumps(request(i)) + "\n" for i in range(count)))
    ledger = Ledger(tmp_path / "ledger.sqlite")
    with ledger.transaction():
        spool(tmp_path / "in.jsonl", tmp_path, ledger)
        assert form_shards(ledger, tmp_path, "job", ShardLimits(), None, parents=(0,), first=1, plan="p") == []
    shard = ledger.shard(1)
    assert shard is not None
    return ledger, shard


OK = _response(200, {"choices": [{"message": {"role": "assistant", "content": "hi"}}]})
EXPIRED = _error_line("batch_expired")

# (id naming the rule, result line or None for no line at all, result file, max_attempts, cancelled, outcome)
RULES: list[tuple[str, dict[str, Any] | None, Source, int, bool, str]] = [
    ("a 200 is ok", OK, "output", 3, False, "ok"),
    ("expired (batch_expired error line): retry", EXPIRED, "error", 3, False, "retry"),
    ("expired as the response body's code: retry", _failure(400, "batch_expired"), "error", 3, False, "retry"),
    ("50505 overloaded on a 503: retry", _failure(503, 50505), "error", 3, False, "retry"),
    ("50505 as the error line's code, no status: retry", _error_line(50505), "error", 3, False, "retry"),
    ("50505 as the body's own code on a 400: retry", _response(400, {"code": 50505}), "error", 3, False, "retry"),
    ("429 rate limited: retry", _failure(429, "rate_limit_exceeded"), "error", 3, False, "retry"),
    ("500: retry", _failure(500, "internal"), "error", 3, False, "retry"),
    ("502: retry", _failure(502, None), "error", 3, False, "retry"),
    ("504: retry", _failure(504, None), "error", 3, False, "retry"),
    ("missing (in neither file): retry", None, "output", 3, False, "retry"),
    ("400 invalid request: final", _failure(400, "invalid_request"), "error", 3, False, "failed"),
    ("404: final", _failure(404, "model_not_found"), "error", 3, False, "failed"),
    ("408 (a timeout: ambiguous, as for every request): sent again", _failure(408, None), "error", 3, False, "retry"),
    ("501 (not implemented): final", _failure(501, None), "error", 3, False, "failed"),
    ("an error line of another code: final", _error_line("invalid_request"), "error", 3, False, "failed"),
    ("max_attempts reached makes expired final", EXPIRED, "error", 1, False, "failed"),
    ("max_attempts reached makes 429 final", _failure(429, "rate_limit_exceeded"), "error", 1, False, "failed"),
    ("max_attempts reached makes missing final", None, "output", 1, False, "failed"),
    ("max_attempts not yet reached: retry", EXPIRED, "error", 2, False, "retry"),
    ("a cancelled job makes expired final", EXPIRED, "error", 3, True, "failed"),
    ("a cancelled job makes 5xx final", _failure(500, None), "error", 3, True, "failed"),
    ("a cancelled job makes missing final", None, "output", 3, True, "failed"),
    ("a cancelled job keeps a 200 ok", OK, "output", 3, True, "ok"),
]


@pytest.mark.parametrize(
    ("line", "source", "max_attempts", "cancelled", "outcome"),
    [pytest.param(*rule[1:], id=rule[0]) for rule in RULES],
)
def test_each_outcome_is_final_or_sent_again_as_its_rule_says(
    tmp_path: Path, line: dict[str, Any] | None, source: Source, max_attempts: int, cancelled: bool, outcome: str
) -> None:
    ledger, shard = _one_shard(tmp_path, 1)
    assert shard.attempt == 1  # the request has been sent once
    results = tmp_path / "results.jsonl"
    results.write_text(json.dumps(line) + "\n" if line is not None else "")
    ingest(ledger, shard, [(source, results)], max_attempts=max_attempts, cancelled=cancelled)
    (row,) = ledger.rows()
    counts, waiting = ledger.counts(), ledger.waiting_parents()
    ledger.close()
    if outcome == "retry":
        assert (row.final, counts, waiting) == (False, {"pending": 1}, [1])  # sent back by shard 1, to wait
    else:
        assert (row.final, counts) == (True, {outcome: 1})
    if line is None:
        assert row.source == "missing"
        assert json.loads(row.result or b"")["error"]["code"] == ("cancelled" if cancelled else "missing_result")


def test_usage_counts_under_the_model_the_job_asked_for_whatever_name_the_reply_gives(tmp_path: Path) -> None:
    """A cap prices the usage by model: a reply naming its model otherwise (or not at all) must not make it unknown."""
    asked = request(0)["body"]["model"]
    ledger, shard = _one_shard(tmp_path, 2)
    usage = {"prompt_tokens": 5, "completion_tokens": 7, "total_tokens": 12}
    echoed = {"model": asked.lower(), "choices": [{"message": {"content": "hi"}}], "usage": usage}
    unnamed = {"choices": [{"message": {"content": "hi"}}], "usage": usage}
    lines = [_response(200, echoed), {**_response(200, unnamed), "custom_id": "r1"}]
    results = tmp_path / "results.jsonl"
    results.write_text("".join(json.dumps(line) + "\n" for line in lines))
    ingest(ledger, shard, [("output", results)], max_attempts=3, cancelled=False)
    assert ledger.usage() == [(asked, 2, 10, 14)]
    ledger.close()
