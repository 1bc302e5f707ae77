"""The plain records of the package: cheap to import, with no generated model behind them."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any, Literal, NamedTuple

from ._model import json_text

__all__ = ["BatchResult", "RequestCounts", "Usage", "result_fields"]

# An error message is one line of at most this many characters (a body can echo a whole request).
MAX_ERROR_MESSAGE = 500


class RequestCounts(NamedTuple):
    """How many requests a batch holds and how many have finished; 0 where the server has not said."""

    total: int
    completed: int
    failed: int

    def to_dict(self) -> dict[str, int]:
        """The counts as JSON-ready data."""
        return self._asdict()

    def to_json(self, *, indent: int | None = 2) -> str:
        """The counts as JSON text."""
        return json_text(self.to_dict(), indent)


class Usage(NamedTuple):
    """The tokens one request used, as its chat completion reports them (a count it leaves out is 0)."""

    prompt_tokens: int
    completion_tokens: int
    total_tokens: int


# A token count past this is no count (a table's column is a 64-bit integer, as is any real one).
MAX_TOKEN_COUNT = 2**63 - 1


def decimal_or_none(value: object) -> Decimal | None:
    """An amount as the API or a price file gives it (``"88.00"``, or a number); None if not a finite number.

    The one reading of money: balances and prices take it.
    """
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        return None
    try:
        number = Decimal(str(value).strip())
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def token_count(value: object) -> int:
    """A token count read tolerantly: a whole number from 0 to ``MAX_TOKEN_COUNT``, anything else 0.

    An integral float counts as its int. The one reading of a count: results, usage sums and tables take it.
    """
    if type(value) is float and value.is_integer():
        value = int(value)
    return value if type(value) is int and 0 <= value <= MAX_TOKEN_COUNT else 0


def _usage(body: dict[str, Any] | None) -> Usage | None:
    usage = body.get("usage") if body is not None else None
    if not isinstance(usage, dict):
        return None
    prompt, completion = token_count(usage.get("prompt_tokens")), token_count(usage.get("completion_tokens"))
    total = token_count(usage.get("total_tokens")) if "total_tokens" in usage else prompt + completion
    total = min(total, MAX_TOKEN_COUNT)  # a sum of two counts may pass it
    return Usage(prompt, completion, total)


def _choice(body: dict[str, Any] | None) -> dict[str, Any] | None:
    """The first choice of a chat completion, when the body has one."""
    choices = body.get("choices") if body is not None else None
    if isinstance(choices, list) and choices and isinstance(choices[0], dict):
        return choices[0]
    return None


def _message(choice: dict[str, Any] | None) -> dict[str, Any] | None:
    message = choice.get("message") if choice is not None else None
    return message if isinstance(message, dict) else None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _reasoning(message: dict[str, Any] | None) -> str | None:
    """``reasoning_content`` (DeepSeek-R1, QwQ on SiliconFlow), or ``reasoning`` as some gateways name it."""
    if message is None:
        return None
    text = message.get("reasoning_content")
    return text if isinstance(text, str) else _text(message.get("reasoning"))


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    return line if len(line) <= MAX_ERROR_MESSAGE else line[: MAX_ERROR_MESSAGE - 1].rstrip() + "…"


def _error_text(error: object) -> str | None:
    """``code: message`` from an error object of any of the shapes seen (OpenAI's, SiliconFlow's, a string)."""
    if isinstance(error, str):
        return error if error.strip() else None
    if not isinstance(error, dict):
        return None
    inner = error.get("error")
    if isinstance(inner, dict | str) and inner:  # OpenAI's body: {"error": {"message", "type", "code"}}
        found = _error_text(inner)
        if found:
            return found
    message = error.get("message")
    if not isinstance(message, str) or not message.strip():
        message = error.get("detail") if isinstance(error.get("detail"), str) else None
    code = error.get("code")
    code = code if isinstance(code, str | int) and not isinstance(code, bool) and code != "" else None
    if message and code is not None:
        return f"{code}: {message}"
    if message:
        return message
    return str(code) if code is not None else None


def _error_message(
    ok: bool, error: dict[str, Any] | None, response: dict[str, Any] | None, status: int | None
) -> str | None:
    if ok:
        return None
    if error is not None:
        text = _error_text(error)
        if text:
            return _one_line(text)
    if response is not None:
        text = _error_text(response.get("body"))
        where = f"HTTP {status}" if status is not None else "the response"
        return _one_line(f"{where}: {text}" if text else f"{where}, with no error message")
    if error is not None:
        return "an error with no message"
    return "no response and no error"


class BatchResult(NamedTuple):
    """The outcome of one request of a batch: a line of the output file, of the error file, or a missing one.

    ``response`` is ``{"status_code", "request_id", "body"}`` as in OpenAI's output lines; ``error`` is the
    line's error object (or, for ``source == "missing"``, why there is no result). ``attempts`` is how many
    batches the request was sent in (a job resubmits failed requests; a single batch's results say 1).
    Immutable; a NamedTuple because a results file can hold millions of them and a tuple is the cheapest
    record to build. ``parsed`` and ``parse_error`` are set by :meth:`parse` (a job with a schema gives its
    results parsed): the validated value (a dict, or the pydantic model's instance), or one line saying why
    there is none; both None for a result that was not parsed.
    """

    custom_id: str
    response: dict[str, Any] | None
    error: dict[str, Any] | None
    id: str | None = None
    source: Literal["output", "error", "missing"] = "output"
    line: int | None = None
    attempts: int = 1
    parsed: Any = None
    parse_error: str | None = None

    @property
    def status_code(self) -> int | None:
        """The HTTP status the request got, when it got one."""
        code = (self.response or {}).get("status_code")
        return code if isinstance(code, int) else None

    @property
    def ok(self) -> bool:
        """True when the request succeeded (a 2xx response and no error)."""
        code = self.status_code
        return self.error is None and code is not None and 200 <= code < 300

    @property
    def body(self) -> dict[str, Any] | None:
        """The response body (a chat completion), when there is one."""
        body = (self.response or {}).get("body")
        return body if isinstance(body, dict) else None

    @property
    def content(self) -> str | None:
        """The first choice's message text, the usual thing to read from a chat completion."""
        message = _message(_choice(self.body))
        return _text(message.get("content")) if message is not None else None

    @property
    def reasoning_content(self) -> str | None:
        """The first choice's reasoning text (reasoning models such as DeepSeek-R1 and QwQ), when there is one."""
        return _reasoning(_message(_choice(self.body)))

    @property
    def finish_reason(self) -> str | None:
        """Why the first choice stopped: ``"stop"``, ``"length"`` (cut at ``max_tokens``), ... or None."""
        choice = _choice(self.body)
        return _text(choice.get("finish_reason")) if choice is not None else None

    @property
    def truncated(self) -> bool:
        """True when the reply stopped at ``max_tokens`` (``finish_reason == "length"``): not a whole answer."""
        return self.finish_reason == "length"

    @property
    def model(self) -> str | None:
        """The model that answered, as the chat completion names it."""
        body = self.body
        return _text(body.get("model")) if body is not None else None

    @property
    def usage(self) -> Usage | None:
        """The tokens the request used, or None when its body reports no usage (a failure, an expiry)."""
        return _usage(self.body)

    @property
    def error_message(self) -> str | None:
        """Why the request failed, in one line, from whichever shape the error came in; None when it succeeded.

        The line's error object (``code: message``), else the failed response's body (``HTTP 400: ...``, from
        OpenAI's ``{"error": {...}}``, SiliconFlow's ``{"code", "message"}`` or a plain string), else a
        sentence saying that there was nothing to read. At most 500 characters.
        """
        return _error_message(self.ok, self.error, self.response, self.status_code)

    def parse(self, schema: object) -> BatchResult:
        """The result with ``parsed`` or ``parse_error`` set against ``schema``.

        ``schema`` is a JSON Schema (a dict), a pydantic model class or a
        :class:`~siliconflow_batch.structured.Schema`. JSON inside a Markdown code fence is accepted; a failed
        request, a reply cut at ``max_tokens`` and one with reasoning but no content are parse errors.
        """
        from .structured import Schema

        parsed, error = Schema.of(schema).check(self)
        return self._replace(parsed=parsed, parse_error=error)

    def to_dict(self) -> dict[str, Any]:
        """The result as one JSON-ready object, the line ``results --output`` writes.

        A parsed result (see :meth:`parse`) has ``parsed`` (a pydantic instance as its ``model_dump()``) and
        ``parse_error`` too.
        """
        found = {
            "custom_id": self.custom_id,
            "ok": self.ok,
            "status_code": self.status_code,
            "source": self.source,
            "content": self.content,
            "error": self.error,
            "response": self.response,
            "attempts": self.attempts,
        }
        if self.parsed is not None or self.parse_error is not None:
            dump = getattr(self.parsed, "model_dump", None)
            found["parsed"] = dump(mode="json") if callable(dump) else self.parsed
            found["parse_error"] = self.parse_error
        return found

    def to_json(self, *, indent: int | None = 2) -> str:
        """The result as JSON text (``to_dict()``, dumped)."""
        return json_text(self.to_dict(), indent)


def result_fields(
    result: BatchResult,
) -> tuple[bool, str | None, str | None, str | None, int | None, int | None, int | None, str | None]:
    """``(ok, content, reasoning_content, finish_reason, prompt, completion, total tokens, error_message)`` at once.

    The same values as the properties (a test holds them equal), read once per result: the table writers call
    it for millions of results.
    """
    response = result[1]
    if result[2] is None and type(response) is dict:
        # The usual shape, read straight; anything else takes the general path below, the properties' own.
        try:
            body = response["body"]
            choice = body["choices"][0]
            message = choice["message"]
            usage = body["usage"]
            status = response["status_code"]
            content, finish = message["content"], choice["finish_reason"]
            prompt, completion, total = usage["prompt_tokens"], usage["completion_tokens"], usage["total_tokens"]
        except (KeyError, IndexError, TypeError):
            pass
        else:
            reasoning = message.get("reasoning_content") if type(message) is dict else 0
            if (
                type(status) is int
                and 200 <= status < 300
                and type(message) is dict
                and type(content) is str
                and type(finish) is str
                and (reasoning is None or type(reasoning) is str)
                and type(prompt) is int
                and type(completion) is int
                and type(total) is int
                and 0 <= prompt <= MAX_TOKEN_COUNT
                and 0 <= completion <= MAX_TOKEN_COUNT
                and 0 <= total <= MAX_TOKEN_COUNT
                and type(usage) is dict
                and type(choice) is dict
                and type(body) is dict
                and (reasoning is not None or message.get("reasoning") is None)
            ):
                return True, content, reasoning, finish, prompt, completion, total, None
    return _result_fields(result)


def _result_fields(
    result: BatchResult,
) -> tuple[bool, str | None, str | None, str | None, int | None, int | None, int | None, str | None]:
    response = result.response
    body = response.get("body") if response is not None else None
    if not isinstance(body, dict):
        body = None
    choice = _choice(body)
    message = _message(choice)
    content = _text(message.get("content")) if message is not None else None
    finish = _text(choice.get("finish_reason")) if choice is not None else None
    usage = _usage(body)
    status = response.get("status_code") if response is not None else None
    status = status if isinstance(status, int) else None
    ok = result.error is None and status is not None and 200 <= status < 300
    error = None if ok else _error_message(ok, result.error, response, status)
    if usage is None:
        return ok, content, _reasoning(message), finish, None, None, None, error
    return ok, content, _reasoning(message), finish, usage[0], usage[1], usage[2], error
