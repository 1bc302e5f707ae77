from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.user_info_response_200_data import UserInfoResponse200Data


T = TypeVar("T", bound="UserInfoResponse200")


@_attrs_define
class UserInfoResponse200:
    """
    Attributes:
        code (int | Unset):  Example: 20000.
        message (str | Unset):  Example: OK.
        status (bool | Unset):  Example: True.
        data (UserInfoResponse200Data | Unset):
    """

    code: int | Unset = UNSET
    message: str | Unset = UNSET
    status: bool | Unset = UNSET
    data: UserInfoResponse200Data | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        code = self.code

        message = self.message

        status = self.status

        data: dict[str, Any] | Unset = UNSET
        if not isinstance(self.data, Unset):
            data = self.data.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if code is not UNSET:
            field_dict["code"] = code
        if message is not UNSET:
            field_dict["message"] = message
        if status is not UNSET:
            field_dict["status"] = status
        if data is not UNSET:
            field_dict["data"] = data

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        from ..models.user_info_response_200_data import UserInfoResponse200Data

        d = dict(src_dict)
        code = d.pop("code", UNSET)

        message = d.pop("message", UNSET)

        status = d.pop("status", UNSET)

        _data = d.pop("data", UNSET)
        data: UserInfoResponse200Data | Unset
        if isinstance(_data, Unset):
            data = UNSET
        else:
            data = UserInfoResponse200Data.from_dict(_data)

        user_info_response_200 = cls(
            code=code,
            message=message,
            status=status,
            data=data,
        )

        user_info_response_200.additional_properties = d
        return user_info_response_200

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
