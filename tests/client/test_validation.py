"""Client-side validation: every problem with its line and limit, and nothing sent when there is one."""

from __future__ import annotations

import copy
import json
import tempfile
from pathlib import Path
from typing import Any

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

import siliconflow_batch as sf
from siliconflow_batch import Problem, validate_requests
from siliconflow_batch.validation import CHAT_COMPLETIONS, validate_create

from fakes import FakeAPI, make_client, run


def _request(custom_id: str = "r1", **changes: Any) -> dict[str, Any]:
    line: dict[str, Any] = {
        "custom_id": custom_id,
        "method": "POST",
        "url": "/v1/chat/completions",
        "body": {"model": "deepseek-ai/DeepSeek-V3", "messages": [{"role": "user", "content": "hi"}]},
    }
    line.update(changes)
    return line


def _write(tmp_path: Path, *lines: Any) -> Path:
    path = tmp_path / "requests.jsonl"
    path.write_text("".join((line if isinstance(line, str) else json.dumps(line)) + "\n" for line in lines))
    return path


def test_a_good_file_passes(tmp_path: Path) -> None:
    system = {"role": "system", "content": "be brief"}
    path = _write(
        tmp_path,
        _request("a"),
        _request(
            "b",
            body={
                "model": "deepseek-ai/DeepSeek-V3",
                "messages": [
                    system,
                    {"role": "user", "content": "q"},
                    {"role": "assistant", "content": "a"},
                    {"role": "user", "content": "q2"},
                ],
            },
        ),
    )
    report = validate_requests(path)
    assert report.ok
    assert report.line_count == 2
    assert report.custom_ids == ["a", "b"]
    assert report.models == {"deepseek-ai/DeepSeek-V3": 1}
    report.raise_for_problems()


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (
            "{not json",
            Problem(
                "line",
                "is not valid JSON (Expecting property name enclosed in double quotes: line 1 column 2 (char 1))",
                2,
            ),
        ),
        ("[1, 2]", Problem("line", "must be a JSON object, not list", 2)),
        (_request(""), Problem("custom_id", "must be a non-empty string", 2)),
        ({**_request("x"), "custom_id": 7}, Problem("custom_id", "must be a non-empty string", 2)),
        (_request("first"), Problem("custom_id", "'first' is already used on line 1", 2)),
        (_request("x", method="GET"), Problem("method", "must be 'POST', got 'GET'", 2)),
        (
            _request("x", url="/v1/embeddings"),
            Problem("url", "must be '/v1/chat/completions' (the batch endpoint), got '/v1/embeddings'", 2),
        ),
        (_request("x", body=[1]), Problem("body", "must be an object", 2)),
        (
            _request("x", body={"model": "deepseek-ai/DeepSeek-V3", "messages": []}),
            Problem("body.messages", "must be a non-empty list", 2),
        ),
        (
            _request("x", body={"model": "deepseek-ai/DeepSeek-V3", "messages": [{"role": "tool", "content": "x"}]}),
            Problem("body.messages[0].role", "must be system, user or assistant, got 'tool'", 2),
        ),
        (
            _request(
                "x",
                body={
                    "model": "deepseek-ai/DeepSeek-V3",
                    "messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y"}],
                },
            ),
            Problem("body.messages", "must end with a user message, ends with 'assistant'", 2),
        ),
        (
            _request("x", body={"model": "", "messages": [{"role": "user", "content": "x"}]}),
            Problem("body.model", "must be a non-empty string when given, got ''", 2),
        ),
    ],
)
def test_each_rule_reports_its_line(tmp_path: Path, line: Any, expected: Problem) -> None:
    report = validate_requests(_write(tmp_path, _request("first"), line))
    assert report.problems == [expected]


def test_mixed_models_need_replace_model(tmp_path: Path) -> None:
    other = _request("b", body={"model": "Qwen/QwQ-32B", "messages": [{"role": "user", "content": "x"}]})
    path = _write(tmp_path, _request("a"), other)
    (problem,) = validate_requests(path).problems
    assert problem.field == "body.model"
    assert problem.line == 2
    assert "found 2: deepseek-ai/DeepSeek-V3 (line 1), Qwen/QwQ-32B (line 2)" in problem.message
    assert "replace_model=" in problem.message
    assert "--model" in problem.message
    assert validate_requests(path, replace_model="Qwen/QwQ-32B").ok


def test_only_custom_id_and_messages_are_required(tmp_path: Path) -> None:
    # The vendor's guide: custom_id and body.messages are required, "the rest is not required".
    path = _write(tmp_path, {"custom_id": "a", "body": {"messages": [{"role": "user", "content": "x"}]}})
    report = validate_requests(path)
    assert report.ok, report.problems
    assert report.models == {}


@pytest.mark.parametrize("window", ["\u0662\u0664h", "\uff12\uff14h", "24 h", "24H", "024h "])
def test_windows_in_other_digits_or_forms_are_refused(window: str) -> None:
    problems = validate_create(
        input_file_id="f", endpoint=CHAT_COMPLETIONS, completion_window=window, metadata=None, replace_model=None
    )
    assert [p.field for p in problems] == ["completion_window"]


@pytest.mark.parametrize("kind", ["directory", "missing"])
def test_a_path_that_is_not_a_readable_file_is_one_problem(tmp_path: Path, kind: str) -> None:
    path = tmp_path if kind == "directory" else tmp_path / "nope.jsonl"
    report = validate_requests(path)
    assert len(report.problems) == 1
    assert report.problems[0].field == "file"
    assert ("is a directory" in report.problems[0].message) == (kind == "directory")


def _spy_reads(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The size of every read of the validator (a readline that returned more than asked would show here)."""
    reads: list[int] = []
    real_open = Path.open

    def spying_open(self: Path, *args: Any, **kwargs: Any) -> Any:
        handle = real_open(self, *args, **kwargs)
        real_readline = handle.readline

        def readline(size: int = -1) -> bytes:
            assert size > 0  # never a whole line, however long
            line: bytes = real_readline(size)
            reads.append(len(line))
            return line

        handle.readline = readline
        return handle

    monkeypatch.setattr(Path, "open", spying_open)
    return reads


GIANT = "x\n\u00e9\\" * 20_000  # 100 kB of content with escapes, past the 1000 bytes read whole in these tests


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        (_request("big", body={"messages": [{"role": "user", "content": GIANT}]}), []),
        (_request("a", body={"messages": [{"role": "user", "content": GIANT}]}), [("custom_id", 2)]),
        (_request("big", body={"messages": [{"role": "user", "content": GIANT}, {"role": "tool"}]}),
         [("body.messages[1].role", 2)]),
        (_request("big", method="GET", body={"model": 5, "messages": [{"content": GIANT}, 7]}),
         [("method", 2), ("body.messages[0].role", 2), ("body.messages[1].role", 2), ("body.model", 2)]),
        (_request("big", body={"messages": [{"role": "user", "content": GIANT}, {"role": "assistant"}]}),
         [("body.messages", 2)]),
        (_request("big", body={"messages": {"role": "user", "content": GIANT}}), [("body.messages", 2)]),
        (_request("big", body=[GIANT]), [("body", 2)]),
        ([GIANT], [("line", 2)]),
        (json.dumps(_request("big", body={"messages": [{"role": "user", "content": GIANT}]}))[:-1], [("line", 2)]),
        ('{"custom_id": "big", "x": "' + json.dumps(GIANT)[1:-1] + '\x01"}', [("line", 2)]),
    ],
    ids=["good", "duplicate-id", "bad-role", "four-problems", "ends-with-assistant", "messages-no-list",
         "body-no-object", "no-object", "cut-short", "control-character"],
)  # fmt: skip
def test_a_giant_line_is_checked_whole_in_bounded_memory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, line: Any, expected: list[tuple[str, int]]
) -> None:
    # The vendor limits the file (1 GB), not its lines: a line too long to read whole is read in pieces and gets
    # the same checks as any other, with the problems a short line would have.
    from siliconflow_batch import _long_line, validation

    monkeypatch.setattr(validation, "MAX_LINE_BYTES", 1000)
    monkeypatch.setattr(_long_line, "PIECE_BYTES", 4096)
    path = _write(tmp_path, _request("a"), line, _request("b"))
    reads = _spy_reads(monkeypatch)
    report = validate_requests(path)
    assert sorted((p.field, p.line) for p in report.problems) == sorted(expected)
    assert report.line_count == 3
    assert max(reads) <= 4096 < len(GIANT)  # never more than a bounded piece at once
    monkeypatch.setattr(validation, "MAX_LINE_BYTES", 32 * 1024**2)  # read whole, the same problems
    whole = validate_requests(path)
    assert [(p.field, p.message, p.line) for p in whole.problems if p.field != "line"] == [
        (p.field, p.message, p.line) for p in report.problems if p.field != "line"
    ]
    assert (whole.custom_ids, whole.models) == (report.custom_ids, report.models)


def test_a_role_that_is_a_list_or_an_object_is_a_problem_not_a_crash(tmp_path: Path) -> None:
    messages = [{"role": ["user"]}, {"role": {"name": "user"}}, {"role": "user"}]
    report = validate_requests(_write(tmp_path, _request("a", body={"messages": messages})))
    assert [(p.field, p.message) for p in report.problems] == [
        ("body.messages[0].role", "must be system, user or assistant, got ['user']"),
        ("body.messages[1].role", "must be system, user or assistant, got {'name': 'user'}"),
    ]


def test_a_giant_line_that_is_not_utf8_or_only_white_space(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from siliconflow_batch import validation

    monkeypatch.setattr(validation, "MAX_LINE_BYTES", 1000)
    path = tmp_path / "requests.jsonl"
    good = json.dumps(_request("a")).encode()
    path.write_bytes(good + b"\n" + b'{"custom_id": "' + b"\xff" * 5000 + b'"}\n' + b" " * 5000 + b"\n" + good + b"\n")
    report = validate_requests(path)
    assert [(p.field, p.line) for p in report.problems] == [("line", 2), ("line", 3), ("custom_id", 4)]
    assert "not UTF-8" in report.problems[0].message
    assert "is empty" in report.problems[1].message


def test_replace_model_allows_lines_without_a_model(tmp_path: Path) -> None:
    path = _write(tmp_path, _request("a", body={"messages": [{"role": "user", "content": "x"}]}))
    assert validate_requests(path, replace_model="Qwen/QwQ-32B").ok


def test_blank_line_in_the_middle_is_reported(tmp_path: Path) -> None:
    path = _write(tmp_path, _request("a"), "", _request("b"))
    assert validate_requests(path).problems == [Problem("line", "is empty; requests must be on consecutive lines", 2)]


def test_trailing_blank_lines_are_fine(tmp_path: Path) -> None:
    path = _write(tmp_path, _request("a"), "", "")
    assert validate_requests(path).ok


def test_too_many_lines_names_the_limit(tmp_path: Path) -> None:
    path = _write(tmp_path, *(_request(f"r{i}") for i in range(5001)))
    assert validate_requests(path).problems == [Problem("file", "holds 5001 requests; the limit is 5000")]


def test_exactly_the_limit_passes(tmp_path: Path) -> None:
    assert validate_requests(_write(tmp_path, *(_request(f"r{i}") for i in range(5000)))).ok


def test_empty_and_missing_files(tmp_path: Path) -> None:
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    assert validate_requests(empty).problems == [Problem("file", "holds no requests")]
    (problem,) = validate_requests(tmp_path / "nope.jsonl").problems
    assert problem.field == "file"
    assert "cannot be read" in problem.message


def test_every_problem_is_listed_in_the_error(tmp_path: Path) -> None:
    path = _write(tmp_path, *(_request("same") for _ in range(30)))
    with pytest.raises(sf.InputValidationError) as caught:
        validate_requests(path).raise_for_problems()
    error = caught.value
    assert len(error.problems) == 29
    assert "29 problems" in str(error)
    assert "line 2: custom_id: 'same' is already used on line 1" in str(error)
    assert "... and 9 more" in str(error)


def test_upload_of_an_invalid_file_sends_nothing(mode: str, api: FakeAPI, tmp_path: Path) -> None:
    path = _write(tmp_path, _request("a"), _request("a"))
    with pytest.raises(sf.InputValidationError, match="line 2: custom_id"):
        run(make_client(mode, api).files.upload(path))
    assert api.requests == []


@pytest.mark.parametrize(
    ("options", "field", "message"),
    [
        ({"completion_window": "23h"}, "completion_window", "must be between 24h and 336h"),
        ({"completion_window": "337h"}, "completion_window", "must be between 24h and 336h"),
        ({"completion_window": "1d"}, "completion_window", "got '1d'"),
        ({"endpoint": "/v1/embeddings"}, "endpoint", "the only one supported"),
        ({"input_file_id": " "}, "input_file_id", "must be a non-empty file id"),
        (
            {"metadata": {f"k{i}": "v" for i in range(16)}},
            "metadata",
            "has 16 pairs besides the idempotency key; the limit is 15 (the key takes one of the 16",
        ),
        ({"metadata": {f"k{i}": "v" for i in range(17)}, "idempotency_key": "k"}, "metadata", "has 17 pairs besides"),
        ({"idempotency_key": ""}, "idempotency_key", "must be a non-empty string"),
        ({"idempotency_key": "a", "metadata": {"idempotency_key": "b"}}, "idempotency_key", "is 'a' but metadata"),
        ({"metadata": {"k" * 65: "v"}}, "metadata[", "key is 65 characters; the limit is 64"),
        ({"metadata": {"k": "v" * 513}}, "metadata['k']", "value is 513 characters; the limit is 512"),
        ({"metadata": {"k": 5}}, "metadata['k']", "value must be a string, got int"),
        ({"replace_model": ""}, "replace_model", "must be a non-empty model name"),
    ],
)
def test_create_rejects_bad_parameters_before_sending(
    mode: str, api: FakeAPI, options: dict[str, Any], field: str, message: str
) -> None:
    arguments: dict[str, Any] = {"input_file_id": "file-in", "completion_window": "24h", **options}
    with pytest.raises(sf.InputValidationError) as caught:
        run(make_client(mode, api).batches.create(**arguments))
    (problem,) = caught.value.problems
    assert problem.field.startswith(field)
    assert message in problem.message
    assert api.requests == []


@pytest.mark.parametrize("window", ["24h", "100h", "336h"])
def test_create_accepts_the_window_bounds(mode: str, api: FakeAPI, window: str) -> None:
    from fakes import batch, body_json, ok

    api.on("POST /batches", ok(batch(completion_window=window)))
    created = run(
        make_client(mode, api).batches.create(
            input_file_id="file-in",
            completion_window=window,
            metadata={"job": "nightly"},
            replace_model="Qwen/QwQ-32B",
        )
    )
    assert created.completion_window == window
    sent = body_json(api.requests[0])
    key = sent["metadata"].pop("idempotency_key")  # every create carries one, made for the call when none is given
    assert key.startswith("sfb-")
    assert sent == {
        "input_file_id": "file-in",
        "endpoint": "/v1/chat/completions",
        "completion_window": window,
        "metadata": {"job": "nightly"},
        "replace": {"model": "Qwen/QwQ-32B"},
    }


def test_fifteen_metadata_pairs_and_the_key_fit(mode: str, api: FakeAPI) -> None:
    from fakes import batch, body_json, ok

    api.on("POST /batches", ok(batch()))
    api.on("GET /batches", ok({"object": "list", "data": [], "has_more": False}))
    mine = {f"k{i}": "v" for i in range(15)}
    run(make_client(mode, api).batches.create(input_file_id="file-in", metadata=mine, idempotency_key="job-1"))
    assert body_json(api.calls("POST /batches")[0])["metadata"] == {**mine, "idempotency_key": "job-1"}


def test_a_key_in_the_metadata_is_the_idempotency_key(mode: str, api: FakeAPI) -> None:
    from fakes import batch, ok

    api.on(
        "GET /batches", ok({"object": "list", "data": [batch(metadata={"idempotency_key": "k"})], "has_more": False})
    )
    found = run(make_client(mode, api).batches.create(input_file_id="file-in", metadata={"idempotency_key": "k"}))
    assert found.id == "batch_1"
    assert api.calls("POST /batches") == []  # found by the key the caller gave, as if given as idempotency_key


def test_empty_ids_are_refused_before_sending(mode: str, api: FakeAPI) -> None:
    client = make_client(mode, api)
    for call in (
        lambda: client.batches.retrieve(""),
        lambda: client.batches.cancel(" "),
        lambda: client.files.download("", "x"),
    ):
        with pytest.raises(sf.InputValidationError, match="must be a non-empty string"):
            run(call())
    assert api.requests == []


@pytest.mark.parametrize("tail", [b"", b"]"], ids=["json", "not-json"])
def test_a_long_line_can_be_copied_as_it_is_checked(tail: bytes) -> None:
    # What a job's spool needs to take a long line: every piece handed on in order, the line never held whole.
    import io

    from siliconflow_batch import _long_line

    line = json.dumps(_request("big", body={"messages": [{"role": "user", "content": GIANT}]})).encode() + tail
    handle = io.BytesIO(line[1000:] + b"\nnext line\n")
    pieces: list[bytes] = []
    scanned = _long_line.scan_line(line[:1000], handle, sink=pieces.append)
    assert b"".join(pieces) == line + b"\n"
    assert handle.read() == b"next line\n"  # the next line is not read
    assert scanned.length == len(line) + 1
    assert (scanned.error is None) == (tail == b"")
    if scanned.error is None:
        assert scanned.line["custom_id"] == "big"


# --- the fast path of a good line (validation._passes) against the checker that explains every problem ---

_DROP = object()


def _set(*path: str | int, to: Any = _DROP) -> Any:
    """A change to a request: the value at ``path`` set (a copy of ``to``) or dropped; none if the path is gone."""

    def change(line: Any) -> None:
        *parents, last = path
        try:
            for key in parents:
                line = line[key]
            if to is _DROP:
                del line[last]
            else:
                line[last] = copy.deepcopy(to)
        except (KeyError, IndexError, TypeError):
            pass

    return change


def _sets(*path: str | int, values: tuple[Any, ...]) -> list[Any]:
    """Changes to a request: each sets the value at ``path`` to one of ``values``."""
    return [_set(*path, to=value) for value in values]


def _adds(messages: tuple[Any, ...], at: int | None = None) -> list[Any]:
    """Changes to a request: each adds one of ``messages`` to its messages, at the end or at ``at``."""

    def adding(message: Any) -> Any:
        def change(line: Any) -> None:
            body = line.get("body")
            messages = body.get("messages") if isinstance(body, dict) else None
            if isinstance(messages, list):
                messages.insert(len(messages) if at is None else at, copy.deepcopy(message))

        return change

    return [adding(message) for message in messages]


_CHANGES = [  # one at a time, each makes a good line bad or leaves it good
    *_sets("custom_id", values=("", 7, None, ["a"], "a", "b")),
    _set("custom_id"),
    *_sets("method", values=("GET", "post", None, ["POST"])),
    _set("method"),
    *_sets("url", values=("/v1/embeddings", CHAT_COMPLETIONS + " ", 1)),
    _set("url"),
    *_sets("body", values=([1], "x", None, {})),
    _set("body"),
    *_sets("body", "messages", values=([], {"role": "user"}, None, "user")),
    _set("body", "messages"),
    *_adds(({"role": "assistant"}, {"role": "tool"}, {"role": "user"}, 7)),
    *_adds(({"role": "system"}, {"role": ["user"]}, {"content": "x"}, []), at=0),
    *_sets("body", "messages", 0, "role", values=(["user"], {"a": 1}, None, 7, "User", "system")),
    _set("body", "messages", 0, "role"),
    _set("body", "messages", 0, to="user"),
    *_sets("body", "model", values=("", 5, None, "m2", [])),
    _set("body", "model"),
    _set("extra", to={"custom_id": "a"}),
]


def _changed(custom_id: str, changes: list[int]) -> bytes:
    line = _request(custom_id, body={"model": "m1", "messages": [{"role": "user", "content": "x"}]})
    for change in changes:
        _CHANGES[change](line)
    return json.dumps(line).encode()


_GOOD = json.dumps(_request("g")).encode()
_ODD_LINES = [  # bytes that json.loads reads otherwise than as UTF-8 JSON text, or refuses, or reads oddly
    b"",
    b"   ",
    b"\x0c",
    b"{",
    b"{}",
    _GOOD + b" x",
    _GOOD + b" \t\r",
    _GOOD[:-1] + b', "custom_id": 5}',  # a key given twice: the last counts
    b"\xef\xbb\xbf" + _GOOD,  # a UTF-8 byte order mark
    _GOOD.decode().encode("utf-16-le"),
    _GOOD.decode().encode("utf-32-be"),
    b"{\x00}",
    _GOOD.replace(b'"g"', b'"\xff"'),
    _GOOD.replace(b'"g"', b'"\xed\xa0\x80"'),  # a surrogate's bytes, as json.loads decodes them (surrogatepass)
    _GOOD.replace(b'"g"', b'"\\ud800"'),
    _GOOD.replace(b'"hi"', b"NaN"),
    b'{"custom_id": "n", "body": {"messages": [{"role": "user"}]}, "x": ' + b"[" * 100_000 + b"]" * 100_000 + b"}",
]
_LINE = st.one_of(
    st.builds(_changed, st.sampled_from("abcdefghijkl"), st.lists(st.integers(0, len(_CHANGES) - 1), max_size=2)),
    st.sampled_from(_ODD_LINES),
)


def _report_facts(path: Path, replace_model: str | None) -> tuple[Any, ...]:
    from siliconflow_batch.validation import read_requests

    handed: list[tuple[int, dict[str, Any]]] = []
    report = read_requests(path, replace_model=replace_model, each=lambda number, line: handed.append((number, line)))
    assert report == validate_requests(path, replace_model=replace_model)
    # Every line without a problem is handed over once, as json.loads reads it; no line with one is.
    raw = path.read_bytes().split(b"\n")
    assert all(json.loads(raw[number - 1]) == line for number, line in handed)
    of_the_file = ("is empty", "must be the same on every line")  # problems that name a line, not of it
    flagged = {p.line for p in report.problems if p.line is not None and not p.message.startswith(of_the_file)}
    assert not flagged & {number for number, _ in handed}
    assert len(handed) == report.line_count - len(flagged)
    return report.problems, report.line_count, report.models, report.custom_ids, handed


@settings(max_examples=400)
@given(
    lines=st.lists(_LINE, max_size=6),
    ending=st.sampled_from([b"\n", b"\r\n"]),
    last=st.sampled_from([b"\n", b""]),
    replace_model=st.sampled_from([None, "m"]),
)
@example(lines=[_changed(f"r{i}", [i]) for i in range(len(_CHANGES))], ending=b"\n", last=b"", replace_model=None)
@example(lines=[_changed(f"r{i}", [i]) for i in range(len(_CHANGES))], ending=b"\n", last=b"", replace_model="m")
@example(lines=_ODD_LINES, ending=b"\n", last=b"\n", replace_model=None)
@example(lines=[_GOOD + b"]"], ending=b"\n", last=b"", replace_model=None)  # one byte after, not the end
def test_the_fast_path_finds_what_the_full_checker_finds(
    lines: list[bytes], ending: bytes, last: bytes, replace_model: str | None
) -> None:
    # A good line is parsed and checked by a shorter way than the one that explains problems; both give one
    # report, line for line: the same problems, count, models and custom_ids, whatever the bytes.
    from siliconflow_batch import validation

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "requests.jsonl"
        path.write_bytes(ending.join(lines) + (last if lines else b""))
        fast = _report_facts(path, replace_model)
        with pytest.MonkeyPatch.context() as patch:
            patch.setattr(validation, "_passes", lambda *_: None)
            full = _report_facts(path, replace_model)
    assert fast == full


@settings(max_examples=200)
@given(lines=st.lists(_LINE, max_size=6), replace_model=st.sampled_from([None, "m"]))
@example(lines=[_changed(f"r{i}", [i]) for i in range(len(_CHANGES))], replace_model=None)
@example(lines=_ODD_LINES, replace_model=None)
def test_the_line_checker_finds_what_the_file_check_finds_of_each_line(
    lines: list[bytes], replace_model: str | None
) -> None:
    # A job checks its input a line at a time as it reads it: the same problems at the same lines as the file's
    # check, but for what concerns the file (a custom_id used twice, blank lines, one model), the job's own.
    from siliconflow_batch.validation import LineChecker

    data = b"".join(line + b"\n" for line in lines)  # each line ends as the job's spool ends it
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "requests.jsonl"
        path.write_bytes(data)
        report = validate_requests(path, replace_model=replace_model)
    of_the_file = ("is empty", "must be the same on every line")
    expected = [
        p
        for p in report.problems
        if p.line is not None and not p.message.startswith(of_the_file) and "is already used on line" not in p.message
    ]
    checker = LineChecker(replace_model=replace_model)
    good = {}
    for number, raw in enumerate(data.split(b"\n")[:-1], 1):
        if raw.strip():
            parsed = checker.check(raw + b"\n", number)
            if parsed is not None:
                assert parsed == json.loads(raw)  # handed over as json.loads reads it
                good[number] = parsed
    assert checker.problems == expected
    assert not set(good) & {p.line for p in expected}  # a good line has no problem
    assert len(checker._report.custom_ids) <= 1  # constant memory: a job's input has millions of ids


def test_a_good_line_is_not_parsed_twice(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # The cost of validating a good file is that of parsing it: no line of it goes to the explaining checker.
    from siliconflow_batch import validation

    explained: list[int] = []
    real = validation._check_line

    def check_line(line: Any, number: int, *rest: Any) -> None:
        explained.append(number)
        real(line, number, *rest)

    monkeypatch.setattr(validation, "_check_line", check_line)
    path = _write(
        tmp_path,
        _request("a"),
        _request("b", method="GET"),
        {"custom_id": "c", "body": {"messages": [{"role": "user"}]}},
    )
    report = validate_requests(path)
    assert [(p.field, p.line) for p in report.problems] == [("method", 2)]
    assert explained == [2]
