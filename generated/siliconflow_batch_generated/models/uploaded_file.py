from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Self

from attrs import define, field

from ..checks import keep, mismatch, missing, timestamp

_NUMBER = (int, float)
_KNOWN = frozenset(
    {
        "id",
        "object",
        "bytes",
        "createdAt",
        "filename",
        "purpose",
    }
)


@define
class UploadedFile:
    """The ``UploadedFile`` object of the API.

    A field the server did not send is None; ``to_dict()`` gives back the JSON the server sent.

    Attributes:
        id (str):
        object_ (str | None):
        bytes_ (int | None):
        created_at (int | None):
        filename (str | None):
        purpose (str | None):
    """

    id: str
    object_: str | None = None
    bytes_: int | None = None
    created_at: int | None = None
    filename: str | None = None
    purpose: str | None = None
    additional_properties: dict[str, Any] = field(factory=dict)
    # Which optional fields the server sent as null, one bit each, so that to_dict gives them back as null.
    _nulls: int = field(default=0, init=False, repr=False, eq=False)

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON data, as the server sent it: a field sent as null is null, an absent one absent."""
        d: dict[str, Any] = dict(self.additional_properties)
        d["id"] = self.id
        if self.object_ is not None or self._nulls & 1:
            d["object"] = self.object_
        if self.bytes_ is not None or self._nulls & 2:
            d["bytes"] = self.bytes_
        if self.created_at is not None or self._nulls & 4:
            d["createdAt"] = self.created_at
        if self.filename is not None or self._nulls & 8:
            d["filename"] = self.filename
        if self.purpose is not None or self._nulls & 16:
            d["purpose"] = self.purpose
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

        v_object_ = d.get("object")
        if v_object_ is None:
            if "object" in d:
                nulls |= 1
                v_object_ = keep("UploadedFile", "object", v_object_)
            else:
                absent += 1
        elif type(v_object_) is str:
            pass
        else:
            v_object_ = keep("UploadedFile", "object", v_object_)

        v_bytes_ = d.get("bytes")
        if v_bytes_ is None:
            if "bytes" in d:
                nulls |= 2
                v_bytes_ = keep("UploadedFile", "bytes", v_bytes_)
            else:
                absent += 1
        elif type(v_bytes_) is int:
            pass
        else:
            v_bytes_ = keep("UploadedFile", "bytes", v_bytes_)

        v_created_at = d.get("createdAt")
        if v_created_at is None:
            if "createdAt" in d:
                nulls |= 4
                v_created_at = timestamp("UploadedFile", "createdAt", v_created_at)
            else:
                absent += 1
        elif type(v_created_at) is int:
            pass
        else:
            v_created_at = timestamp("UploadedFile", "createdAt", v_created_at)

        v_filename = d.get("filename")
        if v_filename is None:
            if "filename" in d:
                nulls |= 8
                v_filename = keep("UploadedFile", "filename", v_filename)
            else:
                absent += 1
        elif type(v_filename) is str:
            pass
        else:
            v_filename = keep("UploadedFile", "filename", v_filename)

        v_purpose = d.get("purpose")
        if v_purpose is None:
            if "purpose" in d:
                nulls |= 16
                v_purpose = keep("UploadedFile", "purpose", v_purpose)
            else:
                absent += 1
        elif type(v_purpose) is str:
            pass
        else:
            v_purpose = keep("UploadedFile", "purpose", v_purpose)

        # Every known key is in d but those counted absent: d holds more than them only when len(d) says so.
        extra = len(d) + absent != 6
        additional_properties = {k: x for k, x in d.items() if k not in _KNOWN} if extra else {}
        # Slots set one by one: calling the attrs __init__ with every field costs more than the checks above.
        obj = object.__new__(cls)
        obj.id = v_id
        obj.object_ = v_object_
        obj.bytes_ = v_bytes_
        obj.created_at = v_created_at
        obj.filename = v_filename
        obj.purpose = v_purpose
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
