from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.batch_endpoint import BatchEndpoint
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.create_batch_request_metadata import CreateBatchRequestMetadata
    from ..models.create_batch_request_replace import CreateBatchRequestReplace


T = TypeVar("T", bound="CreateBatchRequest")


@_attrs_define
class CreateBatchRequest:
    """
    Attributes:
        input_file_id (str): The ID of an uploaded file that contains requests for the new batch. Example: file-
            jkvytbjtow.
        endpoint (BatchEndpoint): The endpoint to be used for all requests in the batch. Currently /v1/chat/completions
            is supported. Example: /v1/chat/completions.
        completion_window (str): The time frame within which the batch should be processed, in hours, from 24h (the
            minimum) to 336h (the maximum). Example: 24h.
        metadata (CreateBatchRequestMetadata | Unset): Set of 16 key-value pairs that can be attached to an object. This
            can be useful for storing additional information about the object in a structured format, and querying for
            objects via API or the dashboard.<\\br>Keys are strings with a maximum length of 64 characters. Values are
            strings with a maximum length of 512 characters. Example: {'description': 'nightly eval job'}.
        replace (CreateBatchRequestReplace | Unset):
    """

    input_file_id: str
    endpoint: BatchEndpoint
    completion_window: str
    metadata: CreateBatchRequestMetadata | Unset = UNSET
    replace: CreateBatchRequestReplace | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        input_file_id = self.input_file_id

        endpoint = self.endpoint.value

        completion_window = self.completion_window

        metadata: dict[str, Any] | Unset = UNSET
        if not isinstance(self.metadata, Unset):
            metadata = self.metadata.to_dict()

        replace: dict[str, Any] | Unset = UNSET
        if not isinstance(self.replace, Unset):
            replace = self.replace.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "input_file_id": input_file_id,
                "endpoint": endpoint,
                "completion_window": completion_window,
            }
        )
        if metadata is not UNSET:
            field_dict["metadata"] = metadata
        if replace is not UNSET:
            field_dict["replace"] = replace

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.create_batch_request_metadata import CreateBatchRequestMetadata
        from ..models.create_batch_request_replace import CreateBatchRequestReplace

        d = dict(src_dict)
        input_file_id = d.pop("input_file_id")

        endpoint = BatchEndpoint(d.pop("endpoint"))

        completion_window = d.pop("completion_window")

        _metadata = d.pop("metadata", UNSET)
        metadata: CreateBatchRequestMetadata | Unset
        if isinstance(_metadata, Unset):
            metadata = UNSET
        else:
            metadata = CreateBatchRequestMetadata.from_dict(_metadata)

        _replace = d.pop("replace", UNSET)
        replace: CreateBatchRequestReplace | Unset
        if isinstance(_replace, Unset):
            replace = UNSET
        else:
            replace = CreateBatchRequestReplace.from_dict(_replace)

        create_batch_request = cls(
            input_file_id=input_file_id,
            endpoint=endpoint,
            completion_window=completion_window,
            metadata=metadata,
            replace=replace,
        )

        create_batch_request.additional_properties = d
        return create_batch_request

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
