"""The ``emulator`` command: the local emulator of the API, served on 127.0.0.1."""

from __future__ import annotations

import argparse
import json
import os
import time

from .._defaults import EMULATOR_CHARGE_BALANCE, EMULATOR_STAGE_SECONDS
from .._exceptions import InputValidationError
from .._problem import Problem
from ._args import AddCommand, bounded_int, non_negative, share
from ._output import OK, USAGE, Output

__all__ = ["register"]


def cmd_emulator(args: argparse.Namespace, out: Output) -> int:
    """``emulator``: serve the emulator until Ctrl-C."""
    try:
        from ..testing import Emulator, Faults
    except ImportError as missing:  # the emulator extra is not installed: one line, a mistake of setup
        if "siliconflow-batch[emulator]" not in str(missing):
            raise
        extra = "pip install 'siliconflow-batch[emulator]'"
        return out.fail(f"the emulator needs the [emulator] extra ({missing.__cause__ or missing}): {extra}", USAGE)

    faults = Faults(rate=args.fault_rate, seed=args.seed)
    key = args.emulator_key or os.environ.get("SILICONFLOW_API_KEY", "").strip() or "sk-emulator"
    faults.result_not_found(times=args.result_not_found)
    emulator = Emulator(
        api_key=key,
        stage_seconds=args.stage_seconds,
        state_dir=args.state_dir,
        faults=faults,
        serve_inputs=args.serve_inputs,
        result_urls=not args.result_ids,
        result_host=args.result_host,
        charge_balance=f"{args.charge_balance:.2f}",
    )
    try:
        server = emulator.serve(port=args.port, host=args.host)
    except OSError as error:
        problem = Problem("--port", f"cannot listen on {args.host}:{args.port}: {error.strerror}")
        raise InputValidationError("the emulator did not start", [problem]) from None
    with server:
        source = "--emulator-key" if args.emulator_key else "the default" if key == "sk-emulator" else "from the env"
        out.note(f"emulator listening on {server.url} (API key: {source}, never shown); Ctrl-C stops it")
        print(json.dumps({"url": server.url}) if out.as_json else server.url, file=out.stream, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            out.note("emulator stopped")
    return OK


def register(add: AddCommand) -> None:
    """Add ``emulator`` to the parser (``add`` as ``_main.build_parser`` gives it)."""
    sub = add("emulator", cmd_emulator, "run the local emulator of the API on 127.0.0.1")
    sub.add_argument(
        "--port", type=bounded_int(0, 65535), default=8000, help="port to listen on (default 8000; 0: any free one)"
    )
    sub.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    sub.add_argument(
        "--emulator-key",
        default=None,
        help="the key the emulator accepts (default: $SILICONFLOW_API_KEY, else sk-emulator)",
    )
    sub.add_argument(
        "--stage-seconds", type=non_negative, default=EMULATOR_STAGE_SECONDS, help="how long each batch stage lasts"
    )
    sub.add_argument("--state-dir", default=None, help="keep state in this directory instead of memory")
    sub.add_argument("--fault-rate", type=share, default=0.0, help="inject faults into this share of requests")
    sub.add_argument("--seed", type=int, default=0, help="seed of the fault injection")
    # Strict as the vendor by default; each flag below gives back one leniency or adds one vendor failure.
    sub.add_argument(
        "--serve-inputs", action="store_true", help="serve uploaded input files back (the vendor does not)"
    )
    sub.add_argument(
        "--result-ids", action="store_true", help="name result files by plain id, not by signed URL on another host"
    )
    sub.add_argument(
        "--result-host", default=None, help="host name of the result URLs (default: localhost for 127.0.0.1)"
    )
    sub.add_argument(
        "--result-not-found",
        type=bounded_int(0, 1000),
        default=0,
        metavar="N",
        help="each result file answers 404 to its first N downloads, as the vendor may just after completion",
    )
    sub.add_argument(
        "--charge-balance",
        type=non_negative,
        default=float(EMULATOR_CHARGE_BALANCE),
        help="the recharged balance (yuan); at 0 a create answers 402, as the vendor's does",
    )
