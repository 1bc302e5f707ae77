"""Contains all the data models used in inputs/outputs"""

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
)
