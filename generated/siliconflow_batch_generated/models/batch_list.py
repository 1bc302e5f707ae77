from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Self

from attrs import define, field

from ..checks import json_data, keep, mismatch

_NUMBER = (int, float)
_KNOWN = frozenset(
    {
        "object",
        "data",
        "first_id",
        "last_id",
        "has_more",
    }
)


@define
class BatchList:
    """The ``BatchList`` object of the API.

    A field the server did not send is None; ``to_dict()`` gives back the JSON the server sent.

    Attributes:
        object_ (str | None):
        data (list[Batch] | None):
        first_id (None | str):
        last_id (None | str):
        has_more (bool | None):
    """

    object_: str | None = None
    data: list[Batch] | None = None
    first_id: None | str = None
    last_id: None | str = None
    has_more: bool | None = None
    additional_properties: dict[str, Any] = field(factory=dict)
    # Which optional fields the server sent as null, one bit each, so that to_dict gives them back as null.
    _nulls: int = field(default=0, init=False, repr=False, eq=False)

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON data, as the server sent it: a field sent as null is null, an absent one absent."""
        d: dict[str, Any] = dict(self.additional_properties)
        if self.object_ is not None or self._nulls & 1:
            d["object"] = self.object_
        if self.data is not None or self._nulls & 2:
            d["data"] = json_data(self.data)
        if self.first_id is not None or self._nulls & 4:
            d["first_id"] = self.first_id
        if self.last_id is not None or self._nulls & 8:
            d["last_id"] = self.last_id
        if self.has_more is not None or self._nulls & 16:
            d["has_more"] = self.has_more
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
        v_object_ = d.get("object")
        if v_object_ is None:
            if "object" in d:
                nulls |= 1
                v_object_ = keep("BatchList", "object", v_object_)
            else:
                absent += 1
        elif type(v_object_) is str:
            pass
        else:
            v_object_ = keep("BatchList", "object", v_object_)

        v_data = d.get("data")
        if v_data is None:
            if "data" in d:
                nulls |= 2
                v_data = mismatch((f"{path}.data" if path else "data"), "list", v_data)
            else:
                absent += 1
        elif type(v_data) is list:
            v_data = [
                Batch.from_dict(x, f"{(f'{path}.data' if path else 'data')}[{i}]")
                if type(x) is dict
                else mismatch(f"{(f'{path}.data' if path else 'data')}[{i}]", "object", x)
                for i, x in enumerate(v_data)
            ]
        else:
            v_data = mismatch((f"{path}.data" if path else "data"), "list", v_data)

        v_first_id = d.get("first_id")
        if v_first_id is None:
            if "first_id" in d:
                nulls |= 4
            else:
                absent += 1
        elif type(v_first_id) is str:
            pass
        else:
            v_first_id = keep("BatchList", "first_id", v_first_id)

        v_last_id = d.get("last_id")
        if v_last_id is None:
            if "last_id" in d:
                nulls |= 8
            else:
                absent += 1
        elif type(v_last_id) is str:
            pass
        else:
            v_last_id = keep("BatchList", "last_id", v_last_id)

        v_has_more = d.get("has_more")
        if v_has_more is None:
            if "has_more" in d:
                nulls |= 16
                v_has_more = keep("BatchList", "has_more", v_has_more)
            else:
                absent += 1
        elif type(v_has_more) is bool:
            pass
        else:
            v_has_more = keep("BatchList", "has_more", v_has_more)

        # Every known key is in d but those counted absent: d holds more than them only when len(d) says so.
        extra = len(d) + absent != 5
        additional_properties = {k: x for k, x in d.items() if k not in _KNOWN} if extra else {}
        # Slots set one by one: calling the attrs __init__ with every field costs more than the checks above.
        obj = object.__new__(cls)
        obj.object_ = v_object_
        obj.data = v_data
        obj.first_id = v_first_id
        obj.last_id = v_last_id
        obj.has_more = v_has_more
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


from ..models.batch import Batch
