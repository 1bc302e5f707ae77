"""The plain records of the package: cheap to import, with no generated model behind them."""

from __future__ import annotations

from typing import Any, Literal, NamedTuple

from ._model import json_text

__all__ = ["BatchResult", "RequestCounts"]


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


class BatchResult(NamedTuple):
    """The outcome of one request of a batch: a line of the output file, of the error file, or a missing one.

    ``response`` is ``{"status_code", "request_id", "body"}`` as in OpenAI's output lines; ``error`` is the
    line's error object (or, for ``source == "missing"``, why there is no result). ``attempts`` is how many
    batches the request was sent in (a job resubmits failed requests; a single batch's results say 1).
    Immutable; a NamedTuple because a results file can hold millions of them and a tuple is the cheapest
    record to build.
    """

    custom_id: str
    response: dict[str, Any] | None
    error: dict[str, Any] | None
    id: str | None = None
    source: Literal["output", "error", "missing"] = "output"
    line: int | None = None
    attempts: int = 1

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
        try:
            content = self.body["choices"][0]["message"]["content"]  # type: ignore[index]
        except (KeyError, IndexError, TypeError):
            return None
        return content if isinstance(content, str) else None

    def to_dict(self) -> dict[str, Any]:
        """The result as one JSON-ready object, the line ``results --output`` writes."""
        return {
            "custom_id": self.custom_id,
            "ok": self.ok,
            "status_code": self.status_code,
            "source": self.source,
            "content": self.content,
            "error": self.error,
            "response": self.response,
            "attempts": self.attempts,
        }

    def to_json(self, *, indent: int | None = 2) -> str:
        """The result as JSON text (``to_dict()``, dumped)."""
        return json_text(self.to_dict(), indent)
