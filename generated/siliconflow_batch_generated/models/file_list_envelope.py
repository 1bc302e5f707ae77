from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Self

from attrs import define, field

from ..checks import json_data, keep, mismatch, missing

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
class FileListEnvelope:
    """The ``FileListEnvelope`` object of the API.

    A field the server did not send is None; ``to_dict()`` gives back the JSON the server sent.

    Attributes:
        code (int):
        message (str):
        status (bool):
        data (FileList | None):
    """

    code: int
    message: str
    status: bool
    data: FileList | None = None
    additional_properties: dict[str, Any] = field(factory=dict)
    # Which optional fields the server sent as null, one bit each, so that to_dict gives them back as null.
    _nulls: int = field(default=0, init=False, repr=False, eq=False)

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON data, as the server sent it: a field sent as null is null, an absent one absent."""
        d: dict[str, Any] = dict(self.additional_properties)
        d["code"] = self.code
        d["message"] = self.message
        d["status"] = self.status
        if self.data is not None or self._nulls & 1:
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
        try:
            v_code = d["code"]
        except KeyError:
            missing(path, "code")
        if v_code is None:
            v_code = keep("FileListEnvelope", "code", v_code)
        elif type(v_code) is int:
            pass
        else:
            v_code = keep("FileListEnvelope", "code", v_code)

        try:
            v_message = d["message"]
        except KeyError:
            missing(path, "message")
        if v_message is None:
            v_message = keep("FileListEnvelope", "message", v_message)
        elif type(v_message) is str:
            pass
        else:
            v_message = keep("FileListEnvelope", "message", v_message)

        try:
            v_status = d["status"]
        except KeyError:
            missing(path, "status")
        if v_status is None:
            v_status = mismatch((f"{path}.status" if path else "status"), "bool", v_status)
        elif type(v_status) is bool:
            pass
        else:
            v_status = mismatch((f"{path}.status" if path else "status"), "bool", v_status)

        v_data = d.get("data")
        if v_data is None:
            if "data" in d:
                nulls |= 1
                v_data = mismatch((f"{path}.data" if path else "data"), "object", v_data)
            else:
                absent += 1
        elif type(v_data) is dict:
            v_data = FileList.from_dict(v_data, (f"{path}.data" if path else "data"))
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


from ..models.file_list import FileList
