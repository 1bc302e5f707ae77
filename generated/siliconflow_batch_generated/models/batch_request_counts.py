from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Self

from attrs import define, field

from ..checks import keep

_NUMBER = (int, float)
_KNOWN = frozenset(
    {
        "total",
        "completed",
        "failed",
    }
)


@define
class BatchRequestCounts:
    """The ``BatchRequestCounts`` object of the API.

    A field the server did not send is None; ``to_dict()`` gives back the JSON the server sent.

    Attributes:
        total (int | None):
        completed (int | None):
        failed (int | None):
    """

    total: int | None = None
    completed: int | None = None
    failed: int | None = None
    additional_properties: dict[str, Any] = field(factory=dict)
    # Which optional fields the server sent as null, one bit each, so that to_dict gives them back as null.
    _nulls: int = field(default=0, init=False, repr=False, eq=False)

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON data, as the server sent it: a field sent as null is null, an absent one absent."""
        d: dict[str, Any] = dict(self.additional_properties)
        if self.total is not None or self._nulls & 1:
            d["total"] = self.total
        if self.completed is not None or self._nulls & 2:
            d["completed"] = self.completed
        if self.failed is not None or self._nulls & 4:
            d["failed"] = self.failed
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
        v_total = d.get("total")
        if v_total is None:
            if "total" in d:
                nulls |= 1
                v_total = keep("BatchRequestCounts", "total", v_total)
            else:
                absent += 1
        elif type(v_total) is int:
            pass
        else:
            v_total = keep("BatchRequestCounts", "total", v_total)

        v_completed = d.get("completed")
        if v_completed is None:
            if "completed" in d:
                nulls |= 2
                v_completed = keep("BatchRequestCounts", "completed", v_completed)
            else:
                absent += 1
        elif type(v_completed) is int:
            pass
        else:
            v_completed = keep("BatchRequestCounts", "completed", v_completed)

        v_failed = d.get("failed")
        if v_failed is None:
            if "failed" in d:
                nulls |= 4
                v_failed = keep("BatchRequestCounts", "failed", v_failed)
            else:
                absent += 1
        elif type(v_failed) is int:
            pass
        else:
            v_failed = keep("BatchRequestCounts", "failed", v_failed)

        # Every known key is in d but those counted absent: d holds more than them only when len(d) says so.
        extra = len(d) + absent != 3
        additional_properties = {k: x for k, x in d.items() if k not in _KNOWN} if extra else {}
        # Slots set one by one: calling the attrs __init__ with every field costs more than the checks above.
        obj = object.__new__(cls)
        obj.total = v_total
        obj.completed = v_completed
        obj.failed = v_failed
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
