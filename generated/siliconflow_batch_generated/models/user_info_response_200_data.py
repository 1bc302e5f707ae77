from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Self, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="UserInfoResponse200Data")


@_attrs_define
class UserInfoResponse200Data:
    """
    Attributes:
        id (str | Unset):  Example: userid.
        name (str | Unset):  Example: username.
        image (str | Unset):  Example: user_avatar_image_url.
        email (str | Unset):  Example: user_email_address.
        is_admin (bool | Unset):  Example: False.
        balance (str | Unset):  Example: 0.88.
        status (str | Unset):  Example: normal.
        introduction (str | Unset):  Example: user_introduction.
        role (str | Unset):  Example: user_role.
        charge_balance (str | Unset):  Example: 88.00.
        total_balance (str | Unset):  Example: 88.88.
    """

    id: str | Unset = UNSET
    name: str | Unset = UNSET
    image: str | Unset = UNSET
    email: str | Unset = UNSET
    is_admin: bool | Unset = UNSET
    balance: str | Unset = UNSET
    status: str | Unset = UNSET
    introduction: str | Unset = UNSET
    role: str | Unset = UNSET
    charge_balance: str | Unset = UNSET
    total_balance: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        name = self.name

        image = self.image

        email = self.email

        is_admin = self.is_admin

        balance = self.balance

        status = self.status

        introduction = self.introduction

        role = self.role

        charge_balance = self.charge_balance

        total_balance = self.total_balance

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if id is not UNSET:
            field_dict["id"] = id
        if name is not UNSET:
            field_dict["name"] = name
        if image is not UNSET:
            field_dict["image"] = image
        if email is not UNSET:
            field_dict["email"] = email
        if is_admin is not UNSET:
            field_dict["isAdmin"] = is_admin
        if balance is not UNSET:
            field_dict["balance"] = balance
        if status is not UNSET:
            field_dict["status"] = status
        if introduction is not UNSET:
            field_dict["introduction"] = introduction
        if role is not UNSET:
            field_dict["role"] = role
        if charge_balance is not UNSET:
            field_dict["chargeBalance"] = charge_balance
        if total_balance is not UNSET:
            field_dict["totalBalance"] = total_balance

        return field_dict

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any]) -> Self:
        d = dict(src_dict)
        id = d.pop("id", UNSET)

        name = d.pop("name", UNSET)

        image = d.pop("image", UNSET)

        email = d.pop("email", UNSET)

        is_admin = d.pop("isAdmin", UNSET)

        balance = d.pop("balance", UNSET)

        status = d.pop("status", UNSET)

        introduction = d.pop("introduction", UNSET)

        role = d.pop("role", UNSET)

        charge_balance = d.pop("chargeBalance", UNSET)

        total_balance = d.pop("totalBalance", UNSET)

        user_info_response_200_data = cls(
            id=id,
            name=name,
            image=image,
            email=email,
            is_admin=is_admin,
            balance=balance,
            status=status,
            introduction=introduction,
            role=role,
            charge_balance=charge_balance,
            total_balance=total_balance,
        )

        user_info_response_200_data.additional_properties = d
        return user_info_response_200_data

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
