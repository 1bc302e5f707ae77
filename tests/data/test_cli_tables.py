"""``run TABLE --prompt ... --output results.parquet``: a table in, the same rows with their answers out."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from siliconflow_batch import SiliconFlow, requests
from siliconflow_batch.testing import Emulator

from cli_support import sfb, write_table
from job_support import client_for

MODEL = "deepseek-ai/DeepSeek-V3"


def _table(path: Path, count: int) -> Path:
    return write_table(path, ["id", "text", "lang"], [[f"doc-{i}", f"text number {i}", "en"] for i in range(count)])


def test_run_builds_requests_from_rows_and_writes_the_rows_with_their_answers(
    tmp_path: Path, url: str, emulator: Emulator
) -> None:
    source = _table(tmp_path / "docs.csv", 7)
    output = tmp_path / "answers.parquet"
    args = ["run", str(source), "--job-dir", str(tmp_path / "job"), "--poll-interval", "5"]
    args += ["--prompt", "Summarize: {text}", "--id-column", "id", "--model", MODEL, "--shard-lines", "3"]
    result = sfb(url, *args, "--output", str(output))
    assert result.code == 0, result.err
    table = pq.read_table(output)
    assert table.column_names[:3] == ["id", "text", "lang"]  # the input's own columns first
    assert table.column("custom_id").to_pylist() == [f"doc-{i}" for i in range(7)]
    assert table.column("ok").to_pylist() == [True] * 7
    assert all(table.column("content").to_pylist())
    spooled = [json.loads(line) for line in (tmp_path / "job" / "input.jsonl").read_text().splitlines()]
    assert [line["body"]["messages"][-1]["content"] for line in spooled] == [
        f"Summarize: text number {i}" for i in range(7)
    ]
    assert {line["body"]["model"] for line in spooled} == {MODEL}
    # job results writes a table by the name too (without the input's columns: the job has no rows to join)
    again = sfb(url, "job", "results", str(tmp_path / "job"), "--output", str(tmp_path / "again.csv"))
    assert again.code == 0, again.err
    assert (tmp_path / "again.csv").read_text().splitlines()[0].startswith('"custom_id","ok","content"')


def test_a_prompt_naming_a_missing_column_is_one_line_and_exit_2(tmp_path: Path, url: str, emulator: Emulator) -> None:
    source = _table(tmp_path / "docs.csv", 2)
    args = ["run", str(source), "--job-dir", str(tmp_path / "job"), "--prompt", "Say {txt}", "--model", MODEL]
    result = sfb(url, *args)
    assert result.code == 2
    assert "txt" in result.err
    assert "Traceback" not in result.err
    assert len(emulator.batches()) == 0


def test_a_table_flag_without_a_prompt_or_a_prompt_without_a_model_is_refused(tmp_path: Path, url: str) -> None:
    source = _table(tmp_path / "docs.csv", 2)
    no_prompt = sfb(url, "run", str(source), "--job-dir", str(tmp_path / "a"), "--id-column", "id")
    assert no_prompt.code == 2
    assert "--id-column" in no_prompt.err
    no_model = sfb(url, "run", str(source), "--job-dir", str(tmp_path / "b"), "--prompt", "Say {text}")
    assert no_model.code == 2
    assert "--model" in no_model.err


def test_a_job_writes_its_table_beside_the_rows_it_ran_from(tmp_path: Path, emulator: Emulator) -> None:
    rows = requests.from_rows(_table(tmp_path / "docs.csv", 4), prompt="Say {text}", model=MODEL, id_column="id")
    client = client_for("sync", emulator)
    assert isinstance(client, SiliconFlow)
    with client:
        job = client.jobs.run(rows, job_dir=tmp_path / "job", poll_interval=5)
        with job:
            assert job.write_table(tmp_path / "out.parquet", rows=rows) == 4
            table = job.to_arrow(rows=rows)
    assert table.column("id").to_pylist() == [f"doc-{i}" for i in range(4)]
    assert pq.read_table(tmp_path / "out.parquet").num_rows == 4
