from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Self

from attrs import define, field

from ..checks import FieldMismatch, json_data, keep, missing
from ..models.batch_endpoint import BatchEndpoint

_NUMBER = (int, float)
_KNOWN = frozenset(
    {
        "input_file_id",
        "endpoint",
        "completion_window",
        "metadata",
        "replace",
    }
)
# Members by value: a dict look-up is a tenth of the cost of calling the enum.
_BatchEndpoint_MEMBERS = {member.value: member for member in BatchEndpoint}


@define
class CreateBatchRequest:
    """The ``CreateBatchRequest`` object of the API.

    A field the server did not send is None; ``to_dict()`` gives back the JSON the server sent.

    Attributes:
        input_file_id (str): The ID of an uploaded file that contains requests for the new batch.
        endpoint (BatchEndpoint): The endpoint to be used for all requests in the batch. Currently /v1/chat/completions
            is supported.
        completion_window (str): The time frame within which the batch should be processed, in hours, from 24h (the
            minimum) to 336h (the maximum).
        metadata (CreateBatchRequestMetadata | None): Set of 16 key-value pairs that can be attached to an object. This
            can be useful for storing additional information about the object in a structured format, and querying for
            objects via API or the dashboard.<\\br>Keys are strings with a maximum length of 64 characters. Values are
            strings with a maximum length of 512 characters.
        replace (CreateBatchRequestReplace | None):
    """

    input_file_id: str
    endpoint: BatchEndpoint
    completion_window: str
    metadata: CreateBatchRequestMetadata | None = None
    replace: CreateBatchRequestReplace | None = None
    additional_properties: dict[str, Any] = field(factory=dict)
    # Which optional fields the server sent as null, one bit each, so that to_dict gives them back as null.
    _nulls: int = field(default=0, init=False, repr=False, eq=False)

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON data, as the server sent it: a field sent as null is null, an absent one absent."""
        d: dict[str, Any] = dict(self.additional_properties)
        d["input_file_id"] = self.input_file_id
        d["endpoint"] = json_data(self.endpoint)
        d["completion_window"] = self.completion_window
        if self.metadata is not None or self._nulls & 1:
            d["metadata"] = json_data(self.metadata)
        if self.replace is not None or self._nulls & 2:
            d["replace"] = json_data(self.replace)
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
            v_input_file_id = d["input_file_id"]
        except KeyError:
            missing(path, "input_file_id")
        if v_input_file_id is None:
            v_input_file_id = keep("CreateBatchRequest", "input_file_id", v_input_file_id)
        elif type(v_input_file_id) is str:
            pass
        else:
            v_input_file_id = keep("CreateBatchRequest", "input_file_id", v_input_file_id)

        try:
            v_endpoint = d["endpoint"]
        except KeyError:
            missing(path, "endpoint")
        if v_endpoint is None:
            v_endpoint = keep("CreateBatchRequest", "endpoint", v_endpoint)
        elif type(v_endpoint) is str:
            v_endpoint = _BatchEndpoint_MEMBERS.get(v_endpoint) or BatchEndpoint(v_endpoint)
        else:
            v_endpoint = keep("CreateBatchRequest", "endpoint", v_endpoint)

        try:
            v_completion_window = d["completion_window"]
        except KeyError:
            missing(path, "completion_window")
        if v_completion_window is None:
            v_completion_window = keep("CreateBatchRequest", "completion_window", v_completion_window)
        elif type(v_completion_window) is str:
            pass
        else:
            v_completion_window = keep("CreateBatchRequest", "completion_window", v_completion_window)

        v_metadata = d.get("metadata")
        if v_metadata is None:
            if "metadata" in d:
                nulls |= 1
                v_metadata = keep("CreateBatchRequest", "metadata", v_metadata)
            else:
                absent += 1
        elif type(v_metadata) is dict:
            for w in v_metadata.values():
                if not (type(w) is str):
                    break
            else:
                o = object.__new__(CreateBatchRequestMetadata)
                o.additional_properties = dict(v_metadata)
                v_metadata = o
            if type(v_metadata) is dict:  # not built here: its from_dict says, or keeps, what is odd
                try:
                    v_metadata = CreateBatchRequestMetadata.from_dict(
                        v_metadata, (f"{path}.metadata" if path else "metadata")
                    )
                except FieldMismatch:
                    v_metadata = keep("CreateBatchRequest", "metadata", v_metadata)
        else:
            v_metadata = keep("CreateBatchRequest", "metadata", v_metadata)

        v_replace = d.get("replace")
        if v_replace is None:
            if "replace" in d:
                nulls |= 2
                v_replace = keep("CreateBatchRequest", "replace", v_replace)
            else:
                absent += 1
        elif type(v_replace) is dict:
            if len(v_replace) == 1 and type(w_model := v_replace.get("model")) is str:
                o = object.__new__(CreateBatchRequestReplace)
                o.model = w_model
                o.additional_properties = {}
                o._nulls = 0
                v_replace = o
            if type(v_replace) is dict:  # not built here: its from_dict says, or keeps, what is odd
                try:
                    v_replace = CreateBatchRequestReplace.from_dict(
                        v_replace, (f"{path}.replace" if path else "replace")
                    )
                except FieldMismatch:
                    v_replace = keep("CreateBatchRequest", "replace", v_replace)
        else:
            v_replace = keep("CreateBatchRequest", "replace", v_replace)

        # Every known key is in d but those counted absent: d holds more than them only when len(d) says so.
        extra = len(d) + absent != 5
        additional_properties = {k: x for k, x in d.items() if k not in _KNOWN} if extra else {}
        # Slots set one by one: calling the attrs __init__ with every field costs more than the checks above.
        obj = object.__new__(cls)
        obj.input_file_id = v_input_file_id
        obj.endpoint = v_endpoint
        obj.completion_window = v_completion_window
        obj.metadata = v_metadata
        obj.replace = v_replace
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


from ..models.create_batch_request_metadata import CreateBatchRequestMetadata
from ..models.create_batch_request_replace import CreateBatchRequestReplace
