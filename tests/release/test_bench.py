"""The bench's method: a ratio compares functions timed in turn within each round, under the same load."""

from __future__ import annotations

import bench


def test_interleaved_medians_time_the_functions_in_turn_within_each_round() -> None:
    calls: list[str] = []
    medians = bench.interleaved_medians((lambda: calls.append("a"), lambda: calls.append("b")), 3)
    assert calls == ["a", "b"] + ["a", "b"] * 3  # a warm-up each, then a, b in every round: never a, a, a, b, b, b
    assert len(medians) == 2
    assert all(m >= 0 for m in medians)
