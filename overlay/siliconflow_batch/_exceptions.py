"""The error hierarchy, modelled on the openai SDK's, and the mapping from an HTTP response to it."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx

if TYPE_CHECKING:
    from ._problem import Problem
    from .types import Batch

__all__ = [
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AuthenticationError",
    "BadRequestError",
    "BatchNotFinishedError",
    "EnvelopeError",
    "GatewayTimeoutError",
    "InputValidationError",
    "InsufficientBalanceError",
    "InternalServerError",
    "JobError",
    "JobInputMismatchError",
    "JobLockedError",
    "JobNotFinishedError",
    "NotFoundError",
    "OverloadedError",
    "PaginationError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "RateLimitError",
    "SiliconFlowError",
    "WaitTimeoutError",
    "error_code",
    "make_status_error",
    "shorten",
    "where",
    "without_query",
]

OVERLOADED_CODE = 50505
# What a 402 means on this platform, and what to do about it (the vendor's user guide: batches are paid only
# from the recharged balance, never from a gift or trial balance).
BALANCE_RULE = "batches are paid only from recharged balance; top up, then run the same command again"
# Bodies can be huge (an HTML error page, a whole echoed file): messages quote at most this much of one.
MAX_QUOTED = 500


def _rebuild(cls: type[SiliconFlowError], args: tuple[object, ...]) -> SiliconFlowError:
    error = cls.__new__(cls)
    Exception.__init__(error, *args)
    return error


class SiliconFlowError(Exception):
    """Base of every error this package raises; every one pickles (process pools) and holds no API key."""

    def __reduce__(self) -> tuple[object, ...]:
        # Exception's default re-calls __init__ with args only, which breaks every class with keyword arguments.
        return (_rebuild, (type(self), self.args), dict(self.__dict__))


def where(request: httpx.Request) -> str:
    """``METHOD scheme://host/path`` of a request, for messages: the host it tried, never the query string.

    A presigned result URL carries its signature in the query, so no query is ever quoted.
    """
    url = request.url
    return f"{request.method} {url.scheme}://{url.netloc.decode('ascii', 'replace')}{url.path}"


def without_query(url: str) -> str:
    """``url`` without its query string: a presigned URL's query is its signature, never to be quoted."""
    return url.split("?", 1)[0]


def shorten(text: str, limit: int = MAX_QUOTED) -> str:
    """``text`` cut to ``limit`` characters at a word boundary where there is one, marked with an ellipsis."""
    if len(text) <= limit:
        return text
    cut = text[: limit - 1]
    space = cut.rfind(" ")
    return (cut[:space] if space > limit // 2 else cut).rstrip() + "…"


def _redacted(request: httpx.Request) -> httpx.Request:
    """A copy of ``request`` without its Authorization header (and without its body), safe to keep and pickle."""
    headers = [(k, v) for k, v in request.headers.multi_items() if k.lower() != "authorization"]
    return httpx.Request(request.method, request.url, headers=headers)


def _redacted_response(response: httpx.Response) -> httpx.Response:
    try:
        content = response.content
    except httpx.ResponseNotRead:
        content = b""
    request = _redacted(response.request)
    return httpx.Response(response.status_code, headers=response.headers, content=content, request=request)


class APIError(SiliconFlowError):
    """A request to the API failed; ``request`` is the httpx request, when there was one.

    ``request`` is a copy without the Authorization header, so neither the error nor its pickle holds the key.
    """

    def __init__(self, message: str, *, request: httpx.Request | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.request = _redacted(request) if request is not None else None


class APIConnectionError(APIError):
    """The server could not be reached, or the connection broke before a whole response arrived."""

    def __init__(self, message: str = "Connection error.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


class APITimeoutError(APIConnectionError):
    """The request timed out."""

    def __init__(self, message: str = "Request timed out.", *, request: httpx.Request | None = None) -> None:
        super().__init__(message, request=request)


class APIResponseValidationError(APIError):
    """The server answered 2xx with a body that does not fit the API's schema; ``field`` names where."""

    def __init__(self, message: str, *, response: httpx.Response, field: str | None = None) -> None:
        super().__init__(message, request=response.request)
        self.response = _redacted_response(response)
        self.status_code = response.status_code
        self.field = field


class APIStatusError(APIError):
    """The server answered with an error status (or an envelope whose ``status`` is false)."""

    def __init__(self, message: str, *, response: httpx.Response, body: object, code: int | str | None) -> None:
        super().__init__(message, request=response.request)
        self.response = _redacted_response(response)
        self.status_code = response.status_code
        self.body = body
        self.code = code

    def __repr__(self) -> str:
        return f"{type(self).__name__}(status_code={self.status_code}, code={self.code!r}, message={self.message!r})"


class BadRequestError(APIStatusError):
    """400: the request was malformed (the body's ``code`` says why, e.g. 20012)."""


class AuthenticationError(APIStatusError):
    """401: the API key is missing or wrong ("Invalid token")."""


class PermissionDeniedError(APIStatusError):
    """403: the key may not do this."""


class NotFoundError(APIStatusError):
    """404: no such batch, file or route."""


class RateLimitError(APIStatusError):
    """429: too many requests; retried automatically, honouring Retry-After."""


class InternalServerError(APIStatusError):
    """5xx: the server failed."""


class OverloadedError(InternalServerError):
    """503, or code 50505: the model service is overloaded and did nothing; safe to retry."""


class GatewayTimeoutError(InternalServerError):
    """504: the gateway gave up waiting; the request may still have been carried out."""


class EnvelopeError(APIStatusError):
    """A 2xx answer whose platform envelope says ``"status": false``."""


class PaginationError(SiliconFlowError):
    """The server ignored the ``after`` cursor and served a page again; following it would never end."""


class BatchNotFinishedError(SiliconFlowError):
    """Results were asked of a batch that has not ended; ``batch`` is the batch as it was seen."""

    def __init__(self, message: str, *, batch: Batch) -> None:
        super().__init__(message)
        self.batch = batch


class JobError(SiliconFlowError):
    """A job (``client.jobs``) cannot go on as asked; the message says why and what to do."""


class JobLockedError(JobError):
    """Another process is working on this job directory; two at once would race, so this one stops."""


class JobInputMismatchError(JobError):
    """The input given is not the one the job in this directory was started with."""


class JobNotFinishedError(JobError):
    """Results were asked of a job with requests still pending (pass ``partial=True`` for what it has)."""


class InsufficientBalanceError(JobError):
    """The account cannot pay for batches: they are paid only from the recharged balance.

    Raised by a job whose ``require_balance`` check finds the recharged balance zero, and, as its subclass
    :class:`PaymentRequiredError`, for a 402 from the server: one ``except InsufficientBalanceError`` catches both.
    """


class PaymentRequiredError(APIStatusError, InsufficientBalanceError):
    """402: the server refused what the account cannot pay for (a batch, without recharged balance).

    Nothing was created, and it is never retried: waiting does not top up an account. The message names the
    rule (batches are paid only from recharged balance) and what to do. Also an :class:`InsufficientBalanceError`.
    """


class WaitTimeoutError(SiliconFlowError):
    """``wait()`` gave up before the batch reached a terminal status; ``batch`` is the last one seen (or None)."""

    def __init__(self, message: str, *, batch: Batch | None) -> None:
        super().__init__(message)
        self.batch = batch


class InputValidationError(SiliconFlowError, ValueError):
    """Input rejected before anything was sent or billed; ``problems`` lists every one found."""

    MAX_SHOWN = 20

    def __init__(self, subject: str, problems: Sequence[Problem]) -> None:
        self.subject = subject
        self.problems = list(problems)
        shown = "\n".join(f"  {p}" for p in self.problems[: self.MAX_SHOWN])
        more = len(self.problems) - self.MAX_SHOWN
        tail = f"\n  ... and {more} more" if more > 0 else ""
        count = len(self.problems)
        super().__init__(f"{subject}: {count} problem{'s' if count != 1 else ''}:\n{shown}{tail}")


_STATUS_CLASSES: dict[int, type[APIStatusError]] = {
    400: BadRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    429: RateLimitError,
    503: OverloadedError,
    504: GatewayTimeoutError,
}


def _decode_body(response: httpx.Response) -> tuple[object, str | None, int | str | None]:
    """Return (body, message, code) for any body: JSON object, JSON string, plain text or empty."""
    text = response.content.decode("utf-8", errors="replace").strip()
    if not text:
        return None, None, None
    try:
        body: Any = json.loads(text)
    except (ValueError, RecursionError):  # not JSON, or nested too deep to parse
        return text, shorten(text), None
    if isinstance(body, str):
        return body, shorten(body) or None, None
    if isinstance(body, dict):
        message = body.get("message")
        if isinstance(message, dict):  # OpenAI-style {"error": {...}} nests one level deeper
            message = message.get("message")
        if message is None and isinstance(body.get("error"), dict):
            message = body["error"].get("message")
        code = body.get("code")
        quoted = shorten(str(message)) if message not in (None, "") else None
        return body, quoted, code if isinstance(code, int | str) and not isinstance(code, bool) else None
    return body, shorten(text), None


def error_code(response: httpx.Response) -> int | str | None:
    """The vendor's ``code`` in an error response's body, or None (the body must have been read)."""
    return _decode_body(response)[2]


def make_status_error(response: httpx.Response, *, envelope: bool = False) -> APIStatusError:
    """Build the right ``APIStatusError`` subclass for an error response; never raises itself."""
    body, message, code = _decode_body(response)
    status = response.status_code
    cls: type[APIStatusError]
    if envelope:
        cls = EnvelopeError
    elif status == 402:  # before the code checks: a refusal to pay is never an overload to wait out
        cls = PaymentRequiredError
    elif code == OVERLOADED_CODE:
        cls = OverloadedError
    else:
        cls = _STATUS_CLASSES.get(status) or (InternalServerError if status >= 500 else APIStatusError)
    prefix = f"{status} {response.reason_phrase}".strip() if not envelope else f"{status} envelope status false"
    detail = message or "no error message in the response body"
    if code is not None:
        detail = f"{detail} (code {shorten(str(code), 40)})"
    if cls is PaymentRequiredError:
        detail = " ".join(f"{detail}; {BALANCE_RULE}".split())  # one line, whatever the body held
    return cls(f"{where(response.request)}: {prefix}: {detail}", response=response, body=body, code=code)


def __getattr__(name: str) -> Any:
    # Problem moved to _problem (an attrs class, loaded with the first problem, not with every client).
    if name == "Problem":
        from ._problem import Problem

        return Problem
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
