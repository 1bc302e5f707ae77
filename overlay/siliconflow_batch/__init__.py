"""Typed client for the SiliconFlow Batch API.

>>> from siliconflow_batch import SiliconFlow
>>> client = SiliconFlow()                      # SILICONFLOW_API_KEY from the environment
>>> f = client.files.upload("requests.jsonl")   # validated first: nothing bad is sent
>>> b = client.batches.create(input_file_id=f.id, completion_window="24h")
>>> b = client.batches.wait(b.id, on_update=print)
>>> for r in client.batches.results(b): ...
"""

from typing import TYPE_CHECKING, Any

from ._lazy import lazy_names

if TYPE_CHECKING:
    from siliconflow_batch_generated._provenance import GENERATOR_VERSION, SPEC_SHA256

    from . import requests, tables
    from ._async.client import AsyncSiliconFlow
    from ._async.pagination import AsyncBatchPager
    from ._defaults import DEFAULT_MAX_RETRIES
    from ._exceptions import (
        APIConnectionError,
        APIError,
        APIResponseValidationError,
        APIStatusError,
        APITimeoutError,
        AuthenticationError,
        BadRequestError,
        BatchNotFinishedError,
        EnvelopeError,
        GatewayTimeoutError,
        InputValidationError,
        InsufficientBalanceError,
        InternalServerError,
        JobError,
        JobInputMismatchError,
        JobLockedError,
        JobNotFinishedError,
        NotFoundError,
        OverloadedError,
        PaginationError,
        PaymentRequiredError,
        PermissionDeniedError,
        RateLimitError,
        SiliconFlowError,
        WaitTimeoutError,
    )
    from ._extras import MissingExtraError
    from ._http import DEFAULT_BASE_URL, DEFAULT_TIMEOUT
    from ._jobs._async.job import AsyncJob
    from ._jobs._sync.job import Job
    from ._jobs.input import JobInput
    from ._jobs.money import JobEstimate
    from ._jobs.settings import JobOptions
    from ._jobs.status import JobBatch, JobStatus
    from ._problem import Problem
    from ._records import Usage
    from ._response import APIResponse
    from ._results import ResultLineError
    from ._sync.client import SiliconFlow
    from ._sync.pagination import BatchPager
    from .requests import RowError
    from .types import (
        TERMINAL_STATUSES,
        AccountInfo,
        Batch,
        BatchPage,
        BatchResult,
        BatchStatus,
        FileObject,
        RequestCounts,
    )
    from .validation import ValidationReport, validate_requests

# Each name's module is imported when the name is first used (PEP 562): `import siliconflow_batch`
# stays cheap, and the generated models load only once a client needs them.
_EXPORTS = {
    "APIResponse": "._response",
    "DEFAULT_BASE_URL": "._http",
    "DEFAULT_MAX_RETRIES": "._defaults",
    "DEFAULT_TIMEOUT": "._http",
    "TERMINAL_STATUSES": ".types",
    "AccountInfo": ".types",
    "APIConnectionError": "._exceptions",
    "APIError": "._exceptions",
    "APIResponseValidationError": "._exceptions",
    "APIStatusError": "._exceptions",
    "APITimeoutError": "._exceptions",
    "AsyncBatchPager": "._async.pagination",
    "AsyncJob": "._jobs._async.job",
    "AsyncSiliconFlow": "._async.client",
    "AuthenticationError": "._exceptions",
    "BadRequestError": "._exceptions",
    "Batch": ".types",
    "BatchNotFinishedError": "._exceptions",
    "BatchPage": ".types",
    "BatchPager": "._sync.pagination",
    "BatchResult": ".types",
    "BatchStatus": ".types",
    "EnvelopeError": "._exceptions",
    "FileObject": ".types",
    "GatewayTimeoutError": "._exceptions",
    "InputValidationError": "._exceptions",
    "InsufficientBalanceError": "._exceptions",
    "InternalServerError": "._exceptions",
    "Job": "._jobs._sync.job",
    "JobBatch": "._jobs.status",
    "JobError": "._exceptions",
    "JobInput": "._jobs.input",
    "JobInputMismatchError": "._exceptions",
    "JobEstimate": "._jobs.money",
    "JobOptions": "._jobs.settings",
    "JobLockedError": "._exceptions",
    "JobNotFinishedError": "._exceptions",
    "JobStatus": "._jobs.status",
    "MissingExtraError": "._extras",
    "NotFoundError": "._exceptions",
    "OverloadedError": "._exceptions",
    "PaginationError": "._exceptions",
    "PaymentRequiredError": "._exceptions",
    "PermissionDeniedError": "._exceptions",
    "Problem": "._problem",
    "RateLimitError": "._exceptions",
    "RequestCounts": ".types",
    "ResultLineError": "._results",
    "RowError": ".requests",
    "SiliconFlow": "._sync.client",
    "SiliconFlowError": "._exceptions",
    "Usage": "._records",
    "ValidationReport": ".validation",
    "WaitTimeoutError": "._exceptions",
    "validate_requests": ".validation",
}


_exported = lazy_names(globals(), _EXPORTS)
_SUBMODULES = frozenset({"requests", "tables"})


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from ._version import package_version

        return package_version()
    if name in _SUBMODULES:  # siliconflow_batch.requests and .tables: imported when first used
        import importlib

        return importlib.import_module(f".{name}", __name__)
    if name in ("SPEC_SHA256", "GENERATOR_VERSION"):  # the spec and generator the client was built from
        from siliconflow_batch_generated import _provenance

        return getattr(_provenance, name)
    return _exported(name)


def __dir__() -> list[str]:
    return sorted(__all__)


__all__ = [
    "DEFAULT_BASE_URL",
    "DEFAULT_MAX_RETRIES",
    "DEFAULT_TIMEOUT",
    "GENERATOR_VERSION",
    "SPEC_SHA256",
    "TERMINAL_STATUSES",
    "APIConnectionError",
    "APIError",
    "APIResponse",
    "APIResponseValidationError",
    "APIStatusError",
    "APITimeoutError",
    "AccountInfo",
    "AsyncBatchPager",
    "AsyncJob",
    "AsyncSiliconFlow",
    "AuthenticationError",
    "BadRequestError",
    "Batch",
    "BatchNotFinishedError",
    "BatchPage",
    "BatchPager",
    "BatchResult",
    "BatchStatus",
    "EnvelopeError",
    "FileObject",
    "GatewayTimeoutError",
    "InputValidationError",
    "InsufficientBalanceError",
    "InternalServerError",
    "Job",
    "JobBatch",
    "JobError",
    "JobEstimate",
    "JobInput",
    "JobInputMismatchError",
    "JobLockedError",
    "JobNotFinishedError",
    "JobOptions",
    "JobStatus",
    "MissingExtraError",
    "NotFoundError",
    "OverloadedError",
    "PaginationError",
    "PaymentRequiredError",
    "PermissionDeniedError",
    "Problem",
    "RateLimitError",
    "RequestCounts",
    "ResultLineError",
    "RowError",
    "SiliconFlow",
    "SiliconFlowError",
    "Usage",
    "ValidationReport",
    "WaitTimeoutError",
    "__version__",
    "requests",
    "tables",
    "validate_requests",
]
