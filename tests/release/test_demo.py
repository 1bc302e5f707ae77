"""The demo's output says what it does (issue 23): the faults it injects, why requests failed, one cost precision."""

from __future__ import annotations

import demo


def test_the_injected_faults_are_said_in_the_output_each_with_what_a_job_does() -> None:
    text = demo.faults_text()
    assert "expires 60% through its window" in text
    assert "2.0% of request lines answer 429 rate_limit_exceeded: retried" in text
    assert "1.0% of request lines answer 503 50505 (overloaded): retried" in text
    assert "0.4% of request lines answer 400 invalid_request: not retried" in text
    assert "interrupted midway, then resumed" in text
    assert set(demo.FAULTS) == set(demo.LINE_FAILURES)  # every fault the emulator is given is explained


def test_the_failures_are_told_by_their_answer() -> None:
    def failed(status: int, code: str | int, attempts: int) -> dict[str, object]:
        return {"ok": False, "status_code": status, "attempts": attempts,
                "response": {"status_code": status, "body": {"error": {"code": code, "message": "m"}}}}  # fmt: skip

    results = [failed(400, "invalid_request", 1), failed(400, "invalid_request", 2), failed(503, 50505, 3)]
    assert demo.failures_text(results) == "2 answered 400 invalid_request, 1 answered 503 50505 on each of 3 attempts"
    assert demo.failures_text([]) == "none"


def test_the_cost_has_the_precision_of_the_commands_summary() -> None:
    # The CLI's summary says "cost  0.4422 yuan"; the demo's own summary must not say 0.442235.
    assert demo.cost_text("0.442235") == "0.4422 yuan"
    assert demo.cost_text(None) == "unknown (a model has no price)"


def test_the_job_is_not_named_job() -> None:
    # The job is named after its directory: ".demo/job" made the summary read "job  job".
    assert demo.JOB_DIR.name not in ("job", "jobs")
