"""Every default of the package, in one place: the clients, the waits, the jobs and the command line read them here.

Plain numbers and strings, and one ``httpx.Timeout``: cheap to import (httpx comes with every client anyway).
"""

from __future__ import annotations

import httpx

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_COMPLETION_WINDOW",
    "DEFAULT_JOB_MAX_POLL_INTERVAL",
    "DEFAULT_JOB_POLL_INTERVAL",
    "DEFAULT_MAX_ATTEMPTS",
    "DEFAULT_MAX_CONCURRENCY",
    "DEFAULT_MAX_OUTAGE",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_POLLS_IN_FLIGHT",
    "DEFAULT_POLL_INTERVAL",
    "DEFAULT_RESULT_GRACE",
    "DEFAULT_TIMEOUT",
    "DEFAULT_TRIGGER_POLL_INTERVAL",
    "EMULATOR_CHARGE_BALANCE",
    "EMULATOR_STAGE_SECONDS",
    "LIST_PAGE",
    "READ_BUFFER",
    "SEND_RETRY_INTERVAL",
]

DEFAULT_BASE_URL = "https://api.siliconflow.cn/v1"
DEFAULT_TIMEOUT = httpx.Timeout(120.0, connect=10.0)  # a batch call answers at once; a download streams
DEFAULT_MAX_RETRIES = 2  # tries of a request after its first, where a retry is safe
DEFAULT_COMPLETION_WINDOW = "24h"  # the vendor's shortest
DEFAULT_POLL_INTERVAL = 30.0  # batches.wait: seconds between polls
DEFAULT_MAX_OUTAGE = 600.0  # how long polls may keep failing, once the server has answered, before a wait gives up
DEFAULT_JOB_POLL_INTERVAL = 30.0
DEFAULT_JOB_MAX_POLL_INTERVAL = 300.0  # a 24-hour window needs no poll every 30 s while nothing moves
DEFAULT_MAX_ATTEMPTS = 3  # how many times a job may send one request
DEFAULT_MAX_CONCURRENCY = 4  # uploads-and-creates, and downloads, in flight at once per job (async client)
# How long a result file that answers 404 (or a batch that ended naming none) is asked for again before its lines
# count as missing: community clients saw the vendor's 404 for a short while after a batch completed.
DEFAULT_RESULT_GRACE = 600.0
SEND_RETRY_INTERVAL = 5.0  # between tries of a send that failed transiently (the sender has retried already)
LIST_PAGE = 100  # the list route's largest page: one list request follows up to 100 active batches
DEFAULT_POLLS_IN_FLIGHT = 8  # batches.wait_many (async client): polls in flight at once
DEFAULT_TRIGGER_POLL_INTERVAL = 60.0  # Airflow: seconds between the trigger's polls, while the task is deferred
READ_BUFFER = 1024**2  # a file's read buffer: a read from the system per MiB, not per 8 KiB (io's default)
# The emulator (siliconflow_batch.testing, and `siliconflow-batch emulator`): each batch stage's length, seconds,
# and the recharged balance it reports (yuan, a decimal string as the vendor's).
EMULATOR_STAGE_SECONDS = 1.0
EMULATOR_CHARGE_BALANCE = "88.00"
