"""``run TABLE --prompt ... --schema schema.json``: replies as JSON of the schema, their fields as columns."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from siliconflow_batch.testing import Emulator

from cli_support import sfb, write_table

MODEL = "deepseek-ai/DeepSeek-V3"
SCHEMA = {
    "type": "object",
    "properties": {"label": {"enum": ["pos", "neg"]}, "stars": {"type": "integer", "minimum": 1, "maximum": 5}},
    "required": ["label", "stars"],
    "additionalProperties": False,
}


def _table(path: Path, count: int) -> Path:
    return write_table(path, ["id", "text"], [[f"doc-{i}", f"review {i}"] for i in range(count)])


def test_run_with_a_schema_resubmits_invalid_replies_and_writes_the_parsed_fields(
    tmp_path: Path, url: str, emulator: Emulator
) -> None:
    emulator._engine.line_failures.update({"broken_json": 0.25, "truncated": 0.25})
    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps(SCHEMA))
    output = tmp_path / "out.parquet"
    args = ["run", str(_table(tmp_path / "docs.csv", 30)), "--job-dir", str(tmp_path / "job"), "--poll-interval", "5"]
    args += ["--prompt", "Rate: {text}", "--id-column", "id", "--model", MODEL, "--schema", str(schema)]
    result = sfb(url, *args, "--resubmit-invalid", "--max-attempts", "4", "--output", str(output), "--json")
    assert result.code == 0, result.err
    table = pq.read_table(output)
    assert table.column_names[-3:] == ["label", "stars", "parse_error"]
    rows = table.to_pylist()
    valid = [row for row in rows if row["parse_error"] is None]
    assert len(valid) >= 28  # 0.5 ** 4 of 30 may stay invalid: about 2
    assert all(row["label"] in ("pos", "neg") and 1 <= row["stars"] <= 5 for row in valid)
    status = json.loads(result.out)
    assert status["requests"]["invalid"] == 30 - len(valid)
    assert status["resubmitted_invalid"] == sum(row["attempts"] - 1 for row in rows) > 10
    spooled = json.loads((tmp_path / "job" / "input.jsonl").read_text().splitlines()[0])
    assert spooled["body"]["response_format"] == {"type": "json_object"}


def test_a_bad_schema_file_is_one_line_naming_the_flag_and_exit_2(tmp_path: Path, url: str, emulator: Emulator) -> None:
    source = _table(tmp_path / "docs.csv", 3)
    base = ["run", str(source), "--job-dir", str(tmp_path / "job"), "--prompt", "{text}", "--model", MODEL]
    (tmp_path / "broken.json").write_text("{not json")
    (tmp_path / "list.json").write_text(json.dumps({"type": "object", "properties": {"a": {"type": "str"}}}))
    for name, expected in [
        ("missing.json", "--schema: "),
        ("broken.json", "--schema: "),
        ("list.json", "--schema.properties.a: has type 'str'"),
    ]:
        result = sfb(url, *base, "--schema", str(tmp_path / name))
        assert result.code == 2, result.err
        assert expected in result.err
        assert name in result.err or "has type" in result.err
    result = sfb(url, *base, "--resubmit-invalid")
    assert result.code == 2
    assert "--resubmit-invalid: needs a schema" in result.err
    assert emulator.batches() == []
