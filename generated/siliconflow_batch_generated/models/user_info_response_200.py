from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Self

from attrs import define, field

from ..checks import json_data, keep, mismatch

_NUMBER = (int, float)
_KNOWN = frozenset(
    {
        "code",
        "message",
        "status",
        "data",
    }
)


@define
class UserInfoResponse200:
    """The ``UserInfoResponse200`` object of the API.

    A field the server did not send is None; ``to_dict()`` gives back the JSON the server sent.

    Attributes:
        code (int | None):
        message (str | None):
        status (bool | None):
        data (UserInfoResponse200Data | None):
    """

    code: int | None = None
    message: str | None = None
    status: bool | None = None
    data: UserInfoResponse200Data | None = None
    additional_properties: dict[str, Any] = field(factory=dict)
    # Which optional fields the server sent as null, one bit each, so that to_dict gives them back as null.
    _nulls: int = field(default=0, init=False, repr=False, eq=False)

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON data, as the server sent it: a field sent as null is null, an absent one absent."""
        d: dict[str, Any] = dict(self.additional_properties)
        if self.code is not None or self._nulls & 1:
            d["code"] = self.code
        if self.message is not None or self._nulls & 2:
            d["message"] = self.message
        if self.status is not None or self._nulls & 4:
            d["status"] = self.status
        if self.data is not None or self._nulls & 8:
            d["data"] = json_data(self.data)
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
        v_code = d.get("code")
        if v_code is None:
            if "code" in d:
                nulls |= 1
                v_code = keep("UserInfoResponse200", "code", v_code)
            else:
                absent += 1
        elif type(v_code) is int:
            pass
        else:
            v_code = keep("UserInfoResponse200", "code", v_code)

        v_message = d.get("message")
        if v_message is None:
            if "message" in d:
                nulls |= 2
                v_message = keep("UserInfoResponse200", "message", v_message)
            else:
                absent += 1
        elif type(v_message) is str:
            pass
        else:
            v_message = keep("UserInfoResponse200", "message", v_message)

        v_status = d.get("status")
        if v_status is None:
            if "status" in d:
                nulls |= 4
                v_status = mismatch((f"{path}.status" if path else "status"), "bool", v_status)
            else:
                absent += 1
        elif type(v_status) is bool:
            pass
        else:
            v_status = mismatch((f"{path}.status" if path else "status"), "bool", v_status)

        v_data = d.get("data")
        if v_data is None:
            if "data" in d:
                nulls |= 8
                v_data = mismatch((f"{path}.data" if path else "data"), "object", v_data)
            else:
                absent += 1
        elif type(v_data) is dict:
            if (
                len(v_data) == 11
                and type(w_id := v_data.get("id")) is str
                and type(w_name := v_data.get("name")) is str
                and type(w_image := v_data.get("image")) is str
                and type(w_email := v_data.get("email")) is str
                and type(w_is_admin := v_data.get("isAdmin")) is bool
                and type(w_balance := v_data.get("balance")) is str
                and type(w_status := v_data.get("status")) is str
                and type(w_introduction := v_data.get("introduction")) is str
                and type(w_role := v_data.get("role")) is str
                and type(w_charge_balance := v_data.get("chargeBalance")) is str
                and type(w_total_balance := v_data.get("totalBalance")) is str
            ):
                o = object.__new__(UserInfoResponse200Data)
                o.id = w_id
                o.name = w_name
                o.image = w_image
                o.email = w_email
                o.is_admin = w_is_admin
                o.balance = w_balance
                o.status = w_status
                o.introduction = w_introduction
                o.role = w_role
                o.charge_balance = w_charge_balance
                o.total_balance = w_total_balance
                o.additional_properties = {}
                o._nulls = 0
                v_data = o
            if type(v_data) is dict:  # not built here: its from_dict says, or keeps, what is odd
                v_data = UserInfoResponse200Data.from_dict(v_data, (f"{path}.data" if path else "data"))
        else:
            v_data = mismatch((f"{path}.data" if path else "data"), "object", v_data)

        # Every known key is in d but those counted absent: d holds more than them only when len(d) says so.
        extra = len(d) + absent != 4
        additional_properties = {k: x for k, x in d.items() if k not in _KNOWN} if extra else {}
        # Slots set one by one: calling the attrs __init__ with every field costs more than the checks above.
        obj = object.__new__(cls)
        obj.code = v_code
        obj.message = v_message
        obj.status = v_status
        obj.data = v_data
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


from ..models.user_info_response_200_data import UserInfoResponse200Data
