"""The metadata every batch of a job carries: which job, input, shard, attempt and cut it belongs to.

With them the server alone can say what each batch is (``recover``); plus the idempotency key that makes its
create happen once. Plain names, cheap to import (the command line's help reads ``RESERVED_METADATA``).
"""

from __future__ import annotations

from .._batch_logic import IDEMPOTENCY_KEY

__all__ = ["RESERVED_KEYS", "RESERVED_METADATA", "TAG_ATTEMPT", "TAG_INPUT", "TAG_JOB", "TAG_PLAN", "TAG_SHARD"]

TAG_JOB = "sf_job"
TAG_INPUT = "sf_input"  # the first 16 hex digits of the input's SHA-256
TAG_SHARD = "sf_shard"
TAG_ATTEMPT = "sf_attempt"
TAG_PLAN = "sf_plan"  # the cut that made the shard (Plan): what recover needs to cut it again
RESERVED_KEYS = frozenset({TAG_JOB, TAG_INPUT, TAG_SHARD, TAG_ATTEMPT, TAG_PLAN, IDEMPOTENCY_KEY})
RESERVED_METADATA = len(RESERVED_KEYS)  # the metadata pairs each of a job's batches spends on the five tags and the key
