"""The money of ``siliconflow-batch run``: ``--dry-run``, ``--max-cost``, ``--prices``, and what a job shows of it.

Used by ``jobs.py``. A price file that cannot be used is one line naming it and its bad entry (exit 2),
before anything is sent; the dry run sends nothing but the balance look-up.
"""

from __future__ import annotations

import argparse
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from .._exceptions import SiliconFlowError
from .._jobs.input import JobInput
from .._jobs.ledger import LEDGER_NAME
from .._jobs.status import JobStatus
from .._sync.client import SiliconFlow
from ..pricing import PriceTable
from ._output import Output

__all__ = ["PricesError", "cap_option", "dry_run", "held_note", "money_rows", "prices", "started"]


class PricesError(Exception):
    """A price file (``--prices`` or ``SILICONFLOW_BATCH_PRICES``) that cannot be used: one line, exit 2."""


def prices(args: argparse.Namespace) -> PriceTable:
    """The prices the command uses: ``--prices FILE``, else ``$SILICONFLOW_BATCH_PRICES``, else the packaged ones."""
    try:
        return PriceTable.load(args.prices)
    except SiliconFlowError as error:
        named = "--prices" if args.prices else "SILICONFLOW_BATCH_PRICES"
        raise PricesError(f"{named}: {error}") from None


def cap_option(args: argparse.Namespace) -> dict[str, Any]:
    """``max_cost`` for ``jobs.submit`` when ``--max-cost`` was given (else the job keeps its own cap)."""
    return {} if args.max_cost is None else {"max_cost": args.max_cost}


def dry_run(client: SiliconFlow, args: argparse.Namespace, out: Output, source: JobInput, table: PriceTable) -> int:
    """``run INPUT --dry-run``: what the job would cost, with nothing sent but the balance look-up."""
    job_dir = args.job_dir if (Path(args.job_dir) / LEDGER_NAME).is_file() else None
    options: dict[str, Any] = {"max_shard_lines": args.shard_lines, **cap_option(args)}
    if args.model is not None:
        options["replace_model"] = args.model
    report = client.jobs.estimate(
        source,
        job_dir=job_dir,
        calibrate_from=[os.fspath(d) for d in args.calibrate_from or ()],
        prices=table,
        **options,
    )
    data = {**report.to_dict(), "within_cap": report.within_cap}
    out.data(data, lambda: f"dry run: nothing was sent\n{report}")
    return 0


def _amount(value: Decimal | None) -> str:
    return "unknown" if value is None else f"{value:.4f} yuan"


def started(status: JobStatus) -> str:
    """The line printed when a job starts: the estimate made of its input, and its cap."""
    made = status.estimate
    if made is None:
        return f"job {status.job_id}: no estimate (no prices)"
    cap = f"; cap {status.max_cost} yuan" if status.max_cost is not None else ""
    return (
        f"job {status.job_id}: estimate {made.requests} requests, {made.input_tokens} tokens in, at most "
        f"{made.output_tokens_max} out: {_amount(made.cost_low)} to {_amount(made.cost_high)}{cap}"
    )


def money_rows(status: JobStatus) -> list[tuple[str, str]]:
    """The summary's rows of money: the estimate made at the start and the actual (spent, committed, cap)."""
    rows = []
    made = status.estimate
    if made is not None:
        rows.append(("estimate", f"{_amount(made.cost_low)} to {_amount(made.cost_high)} (made at the start)"))
    rows.append(("spent", _amount(status.spent)))
    if status.committed is not None and status.committed != status.spent:
        rows.append(("committed", f"{_amount(status.committed)} (spent, and the upper bound of what is in flight)"))
    if status.max_cost is not None:
        rows.append(("cap", f"{status.max_cost} yuan"))
    for model, money in status.money.items():
        estimated = ""
        if money.estimated_high is not None:
            estimated = f", estimated {_amount(money.estimated_low)} to {_amount(money.estimated_high)}"
        rows.append(("  " + (model or "(no model)"), f"spent {_amount(money.spent)}{estimated}"))
    if status.budget:
        rows.append(("held back", f"{status.budget} requests (outcome budget): a higher --max-cost sends them"))
    return rows


def held_note(status: JobStatus) -> str | None:
    """What to tell the person when the cap held requests back, or None."""
    if not status.budget:
        return None
    return (
        f"{status.budget} requests were held back by the cap of {status.max_cost} yuan (outcome budget); "
        "run the same command with a higher --max-cost to send exactly those"
    )
