"""Typed client for the SiliconFlow Batch API.

>>> from siliconflow_batch import SiliconFlow
>>> client = SiliconFlow()                      # SILICONFLOW_API_KEY from the environment
>>> f = client.files.upload("requests.jsonl")   # validated first: nothing bad is sent
>>> b = client.batches.create(input_file_id=f.id, completion_window="24h")
>>> b = client.batches.wait(b.id, on_update=print)
>>> for r in client.batches.results(b): ...
"""

from ._client import DEFAULT_MAX_RETRIES, AsyncSiliconFlow, SiliconFlow
from ._exceptions import (
    APIConnectionError,
    APIError,
    APIResponseValidationError,
    APIStatusError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    EnvelopeError,
    GatewayTimeoutError,
    InputValidationError,
    InternalServerError,
    NotFoundError,
    OverloadedError,
    PaginationError,
    PermissionDeniedError,
    Problem,
    RateLimitError,
    SiliconFlowError,
    WaitTimeoutError,
)
from ._http import DEFAULT_BASE_URL, DEFAULT_TIMEOUT
from ._pagination import AsyncBatchPager, BatchPager
from ._results import ResultLineError
from ._version import __version__
from .types import (
    TERMINAL_STATUSES,
    Batch,
    BatchPage,
    BatchResult,
    BatchStatus,
    FileObject,
    RequestCounts,
)
from .validation import ValidationReport, validate_requests

__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "TERMINAL_STATUSES",
    "APIConnectionError",
    "APIError",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AsyncBatchPager",
    "AsyncSiliconFlow",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchPage",
    "BatchPager",
    "BatchResult",
    "BatchStatus",
    "EnvelopeError",
    "FileObject",
    "GatewayTimeoutError",
    "InputValidationError",
    "InternalServerError",
    "NotFoundError",
    "OverloadedError",
    "PaginationError",
    "PermissionDeniedError",
    "Problem",
    "RateLimitError",
    "RequestCounts",
    "ResultLineError",
    "SiliconFlow",
    "SiliconFlowError",
    "ValidationReport",
    "WaitTimeoutError",
    "__version__",
    "validate_requests",
]
