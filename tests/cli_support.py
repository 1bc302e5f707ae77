"""What the command-line tests share: a requests file writer and the outcome of one command."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

MODEL = "deepseek-ai/DeepSeek-V3"


def write_requests(path: Path, count: int = 6, *, fail: frozenset[int] = frozenset({2}), bad: bool = False) -> Path:
    """A requests file of ``count`` lines; lines in ``fail`` ask too many tokens; ``bad`` repeats one custom_id."""
    lines = []
    for i in range(count):
        body: dict[str, Any] = {"model": MODEL, "messages": [{"role": "user", "content": f"q{i}"}]}
        if i in fail:
            body["max_tokens"] = 10**6
        lines.append(
            {"custom_id": "dup" if bad else f"r{i}", "method": "POST", "url": "/v1/chat/completions", "body": body}
        )
    path.write_text("".join(json.dumps(line) + "\n" for line in lines))
    return path


class Run:
    """The outcome of one command: exit code, stdout, stderr."""

    def __init__(self, code: int, out: str, err: str) -> None:
        self.code, self.out, self.err = code, out, err

    def json(self) -> Any:
        return json.loads(self.out)


def sfb(url: str, *args: str) -> Run:
    """``siliconflow-batch ARGS`` in this process against ``url``, with the emulator's key."""
    from siliconflow_batch import cli

    stdout, err = io.StringIO(), io.StringIO()
    code = cli.main([*args, "--base-url", url, "--api-key", "sk-emulator"], stdout=stdout, stderr=err)
    return Run(code, stdout.getvalue(), err.getvalue())


def write_table(path: Path, header: Sequence[str], rows: Sequence[Sequence[object]]) -> Path:
    """A CSV file of ``rows`` under ``header``."""
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path
