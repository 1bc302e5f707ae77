from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Self

from attrs import define, field

from ..checks import FieldMismatch, json_data, keep, mismatch, missing, timestamp
from ..models.batch_status import BatchStatus

_NUMBER = (int, float)
_KNOWN = frozenset(
    {
        "id",
        "object",
        "endpoint",
        "input_file_id",
        "completion_window",
        "status",
        "created_at",
        "errors",
        "output_file_id",
        "error_file_id",
        "in_progress_at",
        "expires_at",
        "finalizing_at",
        "completed_at",
        "failed_at",
        "expired_at",
        "cancelling_at",
        "cancelled_at",
        "request_counts",
        "metadata",
        "file_name",
    }
)
# Members by value: a dict look-up is a tenth of the cost of calling the enum.
_BatchStatus_MEMBERS = {member.value: member for member in BatchStatus}


@define
class Batch:
    """A batch of requests processed asynchronously (the OpenAI-compatible Batch object).

    A field the server did not send is None; ``to_dict()`` gives back the JSON the server sent.

    Attributes:
        id (str):
        object_ (str):
        endpoint (str):
        input_file_id (str):
        completion_window (str):
        status (BatchStatus): in_queue, validating, in_progress and finalizing are transient; completed, failed, expired
            and cancelled are terminal.
        created_at (int):
        errors (BatchErrors | list[str] | None):
        output_file_id (None | str): A file id (download with GET /files/{file_id}/content) or a full https URL of the
            result file; null until there is one.
        error_file_id (None | str): A file id (download with GET /files/{file_id}/content) or a full https URL of the
            result file; null until there is one.
        in_progress_at (int | None):
        expires_at (int | None):
        finalizing_at (int | None):
        completed_at (int | None):
        failed_at (int | None):
        expired_at (int | None):
        cancelling_at (int | None):
        cancelled_at (int | None):
        request_counts (BatchRequestCounts | None):
        metadata (BatchMetadata | None): Up to 16 string pairs; keys at most 64 characters, values at most 512.
        file_name (None | str): Name of the uploaded input file (list-batches only).
    """

    id: str
    object_: str
    endpoint: str
    input_file_id: str
    completion_window: str
    status: BatchStatus
    created_at: int
    errors: BatchErrors | list[str] | None = None
    output_file_id: None | str = None
    error_file_id: None | str = None
    in_progress_at: int | None = None
    expires_at: int | None = None
    finalizing_at: int | None = None
    completed_at: int | None = None
    failed_at: int | None = None
    expired_at: int | None = None
    cancelling_at: int | None = None
    cancelled_at: int | None = None
    request_counts: BatchRequestCounts | None = None
    metadata: BatchMetadata | None = None
    file_name: None | str = None
    additional_properties: dict[str, Any] = field(factory=dict)
    # Which optional fields the server sent as null, one bit each, so that to_dict gives them back as null.
    _nulls: int = field(default=0, init=False, repr=False, eq=False)

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON data, as the server sent it: a field sent as null is null, an absent one absent."""
        d: dict[str, Any] = dict(self.additional_properties)
        d["id"] = self.id
        d["object"] = self.object_
        d["endpoint"] = self.endpoint
        d["input_file_id"] = self.input_file_id
        d["completion_window"] = self.completion_window
        d["status"] = json_data(self.status)
        d["created_at"] = self.created_at
        if self.errors is not None or self._nulls & 1:
            d["errors"] = json_data(self.errors)
        if self.output_file_id is not None or self._nulls & 2:
            d["output_file_id"] = self.output_file_id
        if self.error_file_id is not None or self._nulls & 4:
            d["error_file_id"] = self.error_file_id
        if self.in_progress_at is not None or self._nulls & 8:
            d["in_progress_at"] = self.in_progress_at
        if self.expires_at is not None or self._nulls & 16:
            d["expires_at"] = self.expires_at
        if self.finalizing_at is not None or self._nulls & 32:
            d["finalizing_at"] = self.finalizing_at
        if self.completed_at is not None or self._nulls & 64:
            d["completed_at"] = self.completed_at
        if self.failed_at is not None or self._nulls & 128:
            d["failed_at"] = self.failed_at
        if self.expired_at is not None or self._nulls & 256:
            d["expired_at"] = self.expired_at
        if self.cancelling_at is not None or self._nulls & 512:
            d["cancelling_at"] = self.cancelling_at
        if self.cancelled_at is not None or self._nulls & 1024:
            d["cancelled_at"] = self.cancelled_at
        if self.request_counts is not None or self._nulls & 2048:
            d["request_counts"] = json_data(self.request_counts)
        if self.metadata is not None or self._nulls & 4096:
            d["metadata"] = json_data(self.metadata)
        if self.file_name is not None or self._nulls & 8192:
            d["file_name"] = self.file_name
        return d

    def to_json(self, *, indent: int | None = 2) -> str:
        """The object as JSON text (``to_dict()``, dumped)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any], path: str = "") -> Self:
        """Build from the server's JSON object, checking each field; ``path`` is where the object sits, for errors.

        Raises FieldMismatch for a missing required field or an essential one that does not fit; any other field
        that does not fit keeps its raw value (warned once).
        """
        d = src_dict
        nulls = absent = 0
        try:
            v_id = d["id"]
        except KeyError:
            missing(path, "id")
        if v_id is None:
            v_id = mismatch((f"{path}.id" if path else "id"), "str", v_id)
        elif type(v_id) is str:
            pass
        else:
            v_id = mismatch((f"{path}.id" if path else "id"), "str", v_id)

        try:
            v_object_ = d["object"]
        except KeyError:
            missing(path, "object")
        if v_object_ is None:
            v_object_ = keep("Batch", "object", v_object_)
        elif type(v_object_) is str:
            pass
        else:
            v_object_ = keep("Batch", "object", v_object_)

        try:
            v_endpoint = d["endpoint"]
        except KeyError:
            missing(path, "endpoint")
        if v_endpoint is None:
            v_endpoint = keep("Batch", "endpoint", v_endpoint)
        elif type(v_endpoint) is str:
            pass
        else:
            v_endpoint = keep("Batch", "endpoint", v_endpoint)

        try:
            v_input_file_id = d["input_file_id"]
        except KeyError:
            missing(path, "input_file_id")
        if v_input_file_id is None:
            v_input_file_id = keep("Batch", "input_file_id", v_input_file_id)
        elif type(v_input_file_id) is str:
            pass
        else:
            v_input_file_id = keep("Batch", "input_file_id", v_input_file_id)

        try:
            v_completion_window = d["completion_window"]
        except KeyError:
            missing(path, "completion_window")
        if v_completion_window is None:
            v_completion_window = keep("Batch", "completion_window", v_completion_window)
        elif type(v_completion_window) is str:
            pass
        else:
            v_completion_window = keep("Batch", "completion_window", v_completion_window)

        try:
            v_status = d["status"]
        except KeyError:
            missing(path, "status")
        if v_status is None:
            v_status = mismatch((f"{path}.status" if path else "status"), "str", v_status)
        elif type(v_status) is str:
            v_status = _BatchStatus_MEMBERS.get(v_status) or BatchStatus(v_status)
        else:
            v_status = mismatch((f"{path}.status" if path else "status"), "str", v_status)

        try:
            v_created_at = d["created_at"]
        except KeyError:
            missing(path, "created_at")
        if v_created_at is None:
            v_created_at = timestamp("Batch", "created_at", v_created_at)
        elif type(v_created_at) is int:
            pass
        else:
            v_created_at = timestamp("Batch", "created_at", v_created_at)

        v_errors = d.get("errors")
        if v_errors is None:
            if "errors" in d:
                nulls |= 1
            else:
                absent += 1
        elif type(v_errors) is list:
            for i, x in enumerate(v_errors):
                if not (type(x) is str):
                    v_errors = keep("Batch", "errors", v_errors)
                    break
        elif type(v_errors) is dict:
            try:
                v_errors = BatchErrors.from_dict(v_errors, (f"{path}.errors" if path else "errors"))
            except FieldMismatch:
                v_errors = keep("Batch", "errors", v_errors)
        else:
            v_errors = keep("Batch", "errors", v_errors)

        v_output_file_id = d.get("output_file_id")
        if v_output_file_id is None:
            if "output_file_id" in d:
                nulls |= 2
            else:
                absent += 1
        elif type(v_output_file_id) is str:
            pass
        else:
            v_output_file_id = keep("Batch", "output_file_id", v_output_file_id)

        v_error_file_id = d.get("error_file_id")
        if v_error_file_id is None:
            if "error_file_id" in d:
                nulls |= 4
            else:
                absent += 1
        elif type(v_error_file_id) is str:
            pass
        else:
            v_error_file_id = keep("Batch", "error_file_id", v_error_file_id)

        v_in_progress_at = d.get("in_progress_at")
        if v_in_progress_at is None:
            if "in_progress_at" in d:
                nulls |= 8
            else:
                absent += 1
        elif type(v_in_progress_at) is int:
            pass
        else:
            v_in_progress_at = timestamp("Batch", "in_progress_at", v_in_progress_at)

        v_expires_at = d.get("expires_at")
        if v_expires_at is None:
            if "expires_at" in d:
                nulls |= 16
            else:
                absent += 1
        elif type(v_expires_at) is int:
            pass
        else:
            v_expires_at = timestamp("Batch", "expires_at", v_expires_at)

        v_finalizing_at = d.get("finalizing_at")
        if v_finalizing_at is None:
            if "finalizing_at" in d:
                nulls |= 32
            else:
                absent += 1
        elif type(v_finalizing_at) is int:
            pass
        else:
            v_finalizing_at = timestamp("Batch", "finalizing_at", v_finalizing_at)

        v_completed_at = d.get("completed_at")
        if v_completed_at is None:
            if "completed_at" in d:
                nulls |= 64
            else:
                absent += 1
        elif type(v_completed_at) is int:
            pass
        else:
            v_completed_at = timestamp("Batch", "completed_at", v_completed_at)

        v_failed_at = d.get("failed_at")
        if v_failed_at is None:
            if "failed_at" in d:
                nulls |= 128
            else:
                absent += 1
        elif type(v_failed_at) is int:
            pass
        else:
            v_failed_at = timestamp("Batch", "failed_at", v_failed_at)

        v_expired_at = d.get("expired_at")
        if v_expired_at is None:
            if "expired_at" in d:
                nulls |= 256
            else:
                absent += 1
        elif type(v_expired_at) is int:
            pass
        else:
            v_expired_at = timestamp("Batch", "expired_at", v_expired_at)

        v_cancelling_at = d.get("cancelling_at")
        if v_cancelling_at is None:
            if "cancelling_at" in d:
                nulls |= 512
            else:
                absent += 1
        elif type(v_cancelling_at) is int:
            pass
        else:
            v_cancelling_at = timestamp("Batch", "cancelling_at", v_cancelling_at)

        v_cancelled_at = d.get("cancelled_at")
        if v_cancelled_at is None:
            if "cancelled_at" in d:
                nulls |= 1024
            else:
                absent += 1
        elif type(v_cancelled_at) is int:
            pass
        else:
            v_cancelled_at = timestamp("Batch", "cancelled_at", v_cancelled_at)

        v_request_counts = d.get("request_counts")
        if v_request_counts is None:
            if "request_counts" in d:
                nulls |= 2048
            else:
                absent += 1
        elif type(v_request_counts) is dict:
            if (
                len(v_request_counts) == 3
                and type(w_total := v_request_counts.get("total")) is int
                and type(w_completed := v_request_counts.get("completed")) is int
                and type(w_failed := v_request_counts.get("failed")) is int
            ):
                o = object.__new__(BatchRequestCounts)
                o.total = w_total
                o.completed = w_completed
                o.failed = w_failed
                o.additional_properties = {}
                o._nulls = 0
                v_request_counts = o
            if type(v_request_counts) is dict:  # not built here: its from_dict says, or keeps, what is odd
                try:
                    v_request_counts = BatchRequestCounts.from_dict(
                        v_request_counts, (f"{path}.request_counts" if path else "request_counts")
                    )
                except FieldMismatch:
                    v_request_counts = keep("Batch", "request_counts", v_request_counts)
        else:
            v_request_counts = keep("Batch", "request_counts", v_request_counts)

        v_metadata = d.get("metadata")
        if v_metadata is None:
            if "metadata" in d:
                nulls |= 4096
            else:
                absent += 1
        elif type(v_metadata) is dict:
            for w in v_metadata.values():
                if not (type(w) is str):
                    break
            else:
                o = object.__new__(BatchMetadata)
                o.additional_properties = dict(v_metadata)
                v_metadata = o
            if type(v_metadata) is dict:  # not built here: its from_dict says, or keeps, what is odd
                try:
                    v_metadata = BatchMetadata.from_dict(v_metadata, (f"{path}.metadata" if path else "metadata"))
                except FieldMismatch:
                    v_metadata = keep("Batch", "metadata", v_metadata)
        else:
            v_metadata = keep("Batch", "metadata", v_metadata)

        v_file_name = d.get("file_name")
        if v_file_name is None:
            if "file_name" in d:
                nulls |= 8192
            else:
                absent += 1
        elif type(v_file_name) is str:
            pass
        else:
            v_file_name = keep("Batch", "file_name", v_file_name)

        # Every known key is in d but those counted absent: d holds more than them only when len(d) says so.
        extra = len(d) + absent != 21
        additional_properties = {k: x for k, x in d.items() if k not in _KNOWN} if extra else {}
        # Slots set one by one: calling the attrs __init__ with every field costs more than the checks above.
        obj = object.__new__(cls)
        obj.id = v_id
        obj.object_ = v_object_
        obj.endpoint = v_endpoint
        obj.input_file_id = v_input_file_id
        obj.completion_window = v_completion_window
        obj.status = v_status
        obj.created_at = v_created_at
        obj.errors = v_errors
        obj.output_file_id = v_output_file_id
        obj.error_file_id = v_error_file_id
        obj.in_progress_at = v_in_progress_at
        obj.expires_at = v_expires_at
        obj.finalizing_at = v_finalizing_at
        obj.completed_at = v_completed_at
        obj.failed_at = v_failed_at
        obj.expired_at = v_expired_at
        obj.cancelling_at = v_cancelling_at
        obj.cancelled_at = v_cancelled_at
        obj.request_counts = v_request_counts
        obj.metadata = v_metadata
        obj.file_name = v_file_name
        obj.additional_properties = additional_properties
        obj._nulls = nulls
        return obj

    @property
    def additional_keys(self) -> list[str]:
        """The keys the server sent beyond the documented fields."""
        return list(self.additional_properties)

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties


from ..models.batch_errors import BatchErrors
from ..models.batch_metadata import BatchMetadata
from ..models.batch_request_counts import BatchRequestCounts
