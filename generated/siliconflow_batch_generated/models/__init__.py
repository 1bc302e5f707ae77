"""Contains all the data models used in inputs/outputs.

Each model's module is imported on first use (PEP 562), so that importing one model does not load them all.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .bad_request_data import BadRequestData
    from .batch import Batch
    from .batch_endpoint import BatchEndpoint
    from .batch_error import BatchError
    from .batch_errors import BatchErrors
    from .batch_list import BatchList
    from .batch_metadata import BatchMetadata
    from .batch_request_counts import BatchRequestCounts
    from .batch_status import BatchStatus
    from .create_batch_request import CreateBatchRequest
    from .create_batch_request_metadata import CreateBatchRequestMetadata
    from .create_batch_request_replace import CreateBatchRequestReplace
    from .file_list import FileList
    from .file_list_envelope import FileListEnvelope
    from .file_object import FileObject
    from .file_purpose import FilePurpose
    from .list_files_purpose import ListFilesPurpose
    from .overloaded_data import OverloadedData
    from .upload_file_request import UploadFileRequest
    from .uploaded_file import UploadedFile
    from .uploaded_file_envelope import UploadedFileEnvelope
    from .user_info_response_200 import UserInfoResponse200
    from .user_info_response_200_data import UserInfoResponse200Data

_MODULES = {
    "BadRequestData": ".bad_request_data",
    "Batch": ".batch",
    "BatchEndpoint": ".batch_endpoint",
    "BatchError": ".batch_error",
    "BatchErrors": ".batch_errors",
    "BatchList": ".batch_list",
    "BatchMetadata": ".batch_metadata",
    "BatchRequestCounts": ".batch_request_counts",
    "BatchStatus": ".batch_status",
    "CreateBatchRequest": ".create_batch_request",
    "CreateBatchRequestMetadata": ".create_batch_request_metadata",
    "CreateBatchRequestReplace": ".create_batch_request_replace",
    "FileList": ".file_list",
    "FileListEnvelope": ".file_list_envelope",
    "FileObject": ".file_object",
    "FilePurpose": ".file_purpose",
    "ListFilesPurpose": ".list_files_purpose",
    "OverloadedData": ".overloaded_data",
    "UploadFileRequest": ".upload_file_request",
    "UploadedFile": ".uploaded_file",
    "UploadedFileEnvelope": ".uploaded_file_envelope",
    "UserInfoResponse200": ".user_info_response_200",
    "UserInfoResponse200Data": ".user_info_response_200_data",
}


def __getattr__(name: str) -> Any:
    module = _MODULES.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = (
    "BadRequestData",
    "Batch",
    "BatchEndpoint",
    "BatchError",
    "BatchErrors",
    "BatchList",
    "BatchMetadata",
    "BatchRequestCounts",
    "BatchStatus",
    "CreateBatchRequest",
    "CreateBatchRequestMetadata",
    "CreateBatchRequestReplace",
    "FileList",
    "FileListEnvelope",
    "FileObject",
    "FilePurpose",
    "ListFilesPurpose",
    "OverloadedData",
    "UploadFileRequest",
    "UploadedFile",
    "UploadedFileEnvelope",
    "UserInfoResponse200",
    "UserInfoResponse200Data",
)
