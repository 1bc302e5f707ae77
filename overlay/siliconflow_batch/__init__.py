"""Typed client for the SiliconFlow Batch API.

>>> from siliconflow_batch import SiliconFlow
>>> client = SiliconFlow()                      # SILICONFLOW_API_KEY from the environment
>>> f = client.files.upload("requests.jsonl")   # validated first: nothing bad is sent
>>> b = client.batches.create(input_file_id=f.id, completion_window="24h")
>>> b = client.batches.wait(b.id, on_update=print)
>>> for r in client.batches.results(b): ...
"""

from typing import TYPE_CHECKING, Any

from ._lazy import declared_names, lazy_names, public_order

if TYPE_CHECKING:  # The public names, each once. Read at run time by declared_names below.
    from siliconflow_batch_generated._provenance import GENERATOR_VERSION as GENERATOR_VERSION
    from siliconflow_batch_generated._provenance import SPEC_SHA256 as SPEC_SHA256

    from . import requests as requests
    from . import tables as tables
    from ._async.client import AsyncSiliconFlow as AsyncSiliconFlow
    from ._async.pagination import AsyncBatchPager as AsyncBatchPager
    from ._defaults import DEFAULT_BASE_URL as DEFAULT_BASE_URL
    from ._defaults import DEFAULT_MAX_RETRIES as DEFAULT_MAX_RETRIES
    from ._defaults import DEFAULT_TIMEOUT as DEFAULT_TIMEOUT
    from ._exceptions import APIConnectionError as APIConnectionError
    from ._exceptions import APIError as APIError
    from ._exceptions import APIResponseValidationError as APIResponseValidationError
    from ._exceptions import APIStatusError as APIStatusError
    from ._exceptions import APITimeoutError as APITimeoutError
    from ._exceptions import AuthenticationError as AuthenticationError
    from ._exceptions import BadRequestError as BadRequestError
    from ._exceptions import BatchNotFinishedError as BatchNotFinishedError
    from ._exceptions import EnvelopeError as EnvelopeError
    from ._exceptions import GatewayTimeoutError as GatewayTimeoutError
    from ._exceptions import InputValidationError as InputValidationError
    from ._exceptions import InsufficientBalanceError as InsufficientBalanceError
    from ._exceptions import InternalServerError as InternalServerError
    from ._exceptions import JobError as JobError
    from ._exceptions import JobInputMismatchError as JobInputMismatchError
    from ._exceptions import JobLockedError as JobLockedError
    from ._exceptions import JobNotFinishedError as JobNotFinishedError
    from ._exceptions import NotFoundError as NotFoundError
    from ._exceptions import OverloadedError as OverloadedError
    from ._exceptions import PaginationError as PaginationError
    from ._exceptions import PaymentRequiredError as PaymentRequiredError
    from ._exceptions import PermissionDeniedError as PermissionDeniedError
    from ._exceptions import RateLimitError as RateLimitError
    from ._exceptions import SiliconFlowError as SiliconFlowError
    from ._exceptions import WaitTimeoutError as WaitTimeoutError
    from ._extras import MissingExtraError as MissingExtraError
    from ._jobs._async.job import AsyncJob as AsyncJob
    from ._jobs._sync.job import Job as Job
    from ._jobs.calls import RunOptions as RunOptions
    from ._jobs.calls import SendOptions as SendOptions
    from ._jobs.calls import StepOptions as StepOptions
    from ._jobs.calls import SubmitOptions as SubmitOptions
    from ._jobs.calls import WaitOptions as WaitOptions
    from ._jobs.input import JobInput as JobInput
    from ._jobs.money import JobEstimate as JobEstimate
    from ._jobs.settings import JobOptions as JobOptions
    from ._jobs.status import JobBatch as JobBatch
    from ._jobs.status import JobStatus as JobStatus
    from ._problem import Problem as Problem
    from ._records import Usage as Usage
    from ._response import APIResponse as APIResponse
    from ._results import ResultLineError as ResultLineError
    from ._sync.client import SiliconFlow as SiliconFlow
    from ._sync.pagination import BatchPager as BatchPager
    from .requests import RowError as RowError
    from .types import TERMINAL_STATUSES as TERMINAL_STATUSES
    from .types import AccountInfo as AccountInfo
    from .types import Batch as Batch
    from .types import BatchPage as BatchPage
    from .types import BatchResult as BatchResult
    from .types import BatchStatus as BatchStatus
    from .types import FileObject as FileObject
    from .types import RequestCounts as RequestCounts
    from .validation import ValidationReport as ValidationReport
    from .validation import validate_requests as validate_requests

# Each name's module is imported when the name is first used (PEP 562): `import siliconflow_batch`
# stays cheap, and the generated models load only once a client needs them.
_SOURCES = declared_names(__file__)
_exported = lazy_names(globals(), _SOURCES)
__all__ = public_order([*_SOURCES, "__version__"])


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from ._version import package_version

        return package_version()
    return _exported(name)


def __dir__() -> list[str]:
    return sorted(__all__)
