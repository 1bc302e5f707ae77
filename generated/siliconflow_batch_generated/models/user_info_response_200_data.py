from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Self

from attrs import define, field

from ..checks import keep, mismatch

_NUMBER = (int, float)
_KNOWN = frozenset(
    {
        "id",
        "name",
        "image",
        "email",
        "isAdmin",
        "balance",
        "status",
        "introduction",
        "role",
        "chargeBalance",
        "totalBalance",
    }
)


@define
class UserInfoResponse200Data:
    """The ``UserInfoResponse200Data`` object of the API.

    A field the server did not send is None; ``to_dict()`` gives back the JSON the server sent.

    Attributes:
        id (str | None):
        name (str | None):
        image (str | None):
        email (str | None):
        is_admin (bool | None):
        balance (str | None):
        status (str | None):
        introduction (str | None):
        role (str | None):
        charge_balance (str | None):
        total_balance (str | None):
    """

    id: str | None = None
    name: str | None = None
    image: str | None = None
    email: str | None = None
    is_admin: bool | None = None
    balance: str | None = None
    status: str | None = None
    introduction: str | None = None
    role: str | None = None
    charge_balance: str | None = None
    total_balance: str | None = None
    additional_properties: dict[str, Any] = field(factory=dict)
    # Which optional fields the server sent as null, one bit each, so that to_dict gives them back as null.
    _nulls: int = field(default=0, init=False, repr=False, eq=False)

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON data, as the server sent it: a field sent as null is null, an absent one absent."""
        d: dict[str, Any] = dict(self.additional_properties)
        if self.id is not None or self._nulls & 1:
            d["id"] = self.id
        if self.name is not None or self._nulls & 2:
            d["name"] = self.name
        if self.image is not None or self._nulls & 4:
            d["image"] = self.image
        if self.email is not None or self._nulls & 8:
            d["email"] = self.email
        if self.is_admin is not None or self._nulls & 16:
            d["isAdmin"] = self.is_admin
        if self.balance is not None or self._nulls & 32:
            d["balance"] = self.balance
        if self.status is not None or self._nulls & 64:
            d["status"] = self.status
        if self.introduction is not None or self._nulls & 128:
            d["introduction"] = self.introduction
        if self.role is not None or self._nulls & 256:
            d["role"] = self.role
        if self.charge_balance is not None or self._nulls & 512:
            d["chargeBalance"] = self.charge_balance
        if self.total_balance is not None or self._nulls & 1024:
            d["totalBalance"] = self.total_balance
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
        v_id = d.get("id")
        if v_id is None:
            if "id" in d:
                nulls |= 1
                v_id = mismatch((f"{path}.id" if path else "id"), "str", v_id)
            else:
                absent += 1
        elif type(v_id) is str:
            pass
        else:
            v_id = mismatch((f"{path}.id" if path else "id"), "str", v_id)

        v_name = d.get("name")
        if v_name is None:
            if "name" in d:
                nulls |= 2
                v_name = keep("UserInfoResponse200Data", "name", v_name)
            else:
                absent += 1
        elif type(v_name) is str:
            pass
        else:
            v_name = keep("UserInfoResponse200Data", "name", v_name)

        v_image = d.get("image")
        if v_image is None:
            if "image" in d:
                nulls |= 4
                v_image = keep("UserInfoResponse200Data", "image", v_image)
            else:
                absent += 1
        elif type(v_image) is str:
            pass
        else:
            v_image = keep("UserInfoResponse200Data", "image", v_image)

        v_email = d.get("email")
        if v_email is None:
            if "email" in d:
                nulls |= 8
                v_email = keep("UserInfoResponse200Data", "email", v_email)
            else:
                absent += 1
        elif type(v_email) is str:
            pass
        else:
            v_email = keep("UserInfoResponse200Data", "email", v_email)

        v_is_admin = d.get("isAdmin")
        if v_is_admin is None:
            if "isAdmin" in d:
                nulls |= 16
                v_is_admin = keep("UserInfoResponse200Data", "isAdmin", v_is_admin)
            else:
                absent += 1
        elif type(v_is_admin) is bool:
            pass
        else:
            v_is_admin = keep("UserInfoResponse200Data", "isAdmin", v_is_admin)

        v_balance = d.get("balance")
        if v_balance is None:
            if "balance" in d:
                nulls |= 32
                v_balance = keep("UserInfoResponse200Data", "balance", v_balance)
            else:
                absent += 1
        elif type(v_balance) is str:
            pass
        else:
            v_balance = keep("UserInfoResponse200Data", "balance", v_balance)

        v_status = d.get("status")
        if v_status is None:
            if "status" in d:
                nulls |= 64
                v_status = mismatch((f"{path}.status" if path else "status"), "str", v_status)
            else:
                absent += 1
        elif type(v_status) is str:
            pass
        else:
            v_status = mismatch((f"{path}.status" if path else "status"), "str", v_status)

        v_introduction = d.get("introduction")
        if v_introduction is None:
            if "introduction" in d:
                nulls |= 128
                v_introduction = keep("UserInfoResponse200Data", "introduction", v_introduction)
            else:
                absent += 1
        elif type(v_introduction) is str:
            pass
        else:
            v_introduction = keep("UserInfoResponse200Data", "introduction", v_introduction)

        v_role = d.get("role")
        if v_role is None:
            if "role" in d:
                nulls |= 256
                v_role = keep("UserInfoResponse200Data", "role", v_role)
            else:
                absent += 1
        elif type(v_role) is str:
            pass
        else:
            v_role = keep("UserInfoResponse200Data", "role", v_role)

        v_charge_balance = d.get("chargeBalance")
        if v_charge_balance is None:
            if "chargeBalance" in d:
                nulls |= 512
                v_charge_balance = keep("UserInfoResponse200Data", "chargeBalance", v_charge_balance)
            else:
                absent += 1
        elif type(v_charge_balance) is str:
            pass
        else:
            v_charge_balance = keep("UserInfoResponse200Data", "chargeBalance", v_charge_balance)

        v_total_balance = d.get("totalBalance")
        if v_total_balance is None:
            if "totalBalance" in d:
                nulls |= 1024
                v_total_balance = keep("UserInfoResponse200Data", "totalBalance", v_total_balance)
            else:
                absent += 1
        elif type(v_total_balance) is str:
            pass
        else:
            v_total_balance = keep("UserInfoResponse200Data", "totalBalance", v_total_balance)

        # Every known key is in d but those counted absent: d holds more than them only when len(d) says so.
        extra = len(d) + absent != 11
        additional_properties = {k: x for k, x in d.items() if k not in _KNOWN} if extra else {}
        # Slots set one by one: calling the attrs __init__ with every field costs more than the checks above.
        obj = object.__new__(cls)
        obj.id = v_id
        obj.name = v_name
        obj.image = v_image
        obj.email = v_email
        obj.is_admin = v_is_admin
        obj.balance = v_balance
        obj.status = v_status
        obj.introduction = v_introduction
        obj.role = v_role
        obj.charge_balance = v_charge_balance
        obj.total_balance = v_total_balance
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
