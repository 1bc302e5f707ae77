from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, Self

from attrs import define, field

from .. import types
from ..checks import json_data, keep, missing
from ..models.file_purpose import FilePurpose
from ..types import File

_NUMBER = (int, float)
_KNOWN = frozenset(
    {
        "purpose",
        "file",
    }
)
# Members by value: a dict look-up is a tenth of the cost of calling the enum.
_FilePurpose_MEMBERS = {member.value: member for member in FilePurpose}


@define
class UploadFileRequest:
    """The ``UploadFileRequest`` object of the API.

    A field the server did not send is None; ``to_dict()`` gives back the JSON the server sent.

    Attributes:
        purpose (FilePurpose):
        file (File): File to upload
    """

    purpose: FilePurpose
    file: File
    additional_properties: dict[str, Any] = field(factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The object as JSON data, as the server sent it: a field sent as null is null, an absent one absent."""
        d: dict[str, Any] = dict(self.additional_properties)
        d["purpose"] = json_data(self.purpose)
        d["file"] = self.file.to_tuple()
        return d

    def to_json(self, *, indent: int | None = 2) -> str:
        """The object as JSON text (``to_dict()``, dumped)."""
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False)

    def to_multipart(self) -> types.RequestFiles:
        """The object as the parts of a multipart/form-data body; a field that is None is not sent."""
        files: types.RequestFiles = []
        files.append(("purpose", (None, str(self.purpose.value).encode(), "text/plain")))

        files.append(("file", self.file.to_tuple()))

        for prop_name, prop in self.additional_properties.items():
            files.append((prop_name, (None, str(prop).encode(), "text/plain")))
        return files

    @classmethod
    def from_dict(cls, src_dict: Mapping[str, Any], path: str = "") -> Self:
        """Build from the server's JSON object, checking each field; ``path`` is where the object sits, for errors.

        Raises FieldMismatch for a missing required field or an essential one that does not fit; any other field
        that does not fit keeps its raw value (warned once).
        """
        d = src_dict
        try:
            v_purpose = d["purpose"]
        except KeyError:
            missing(path, "purpose")
        if v_purpose is None:
            v_purpose = keep("UploadFileRequest", "purpose", v_purpose)
        elif type(v_purpose) is str:
            v_purpose = _FilePurpose_MEMBERS.get(v_purpose) or FilePurpose(v_purpose)
        else:
            v_purpose = keep("UploadFileRequest", "purpose", v_purpose)

        try:
            v_file = d["file"]
        except KeyError:
            missing(path, "file")
        if v_file is None:
            v_file = keep("UploadFileRequest", "file", v_file)

        # Every known key is in d but those counted absent: d holds more than them only when len(d) says so.
        extra = len(d) != 2
        additional_properties = {k: x for k, x in d.items() if k not in _KNOWN} if extra else {}
        # Slots set one by one: calling the attrs __init__ with every field costs more than the checks above.
        obj = object.__new__(cls)
        obj.purpose = v_purpose
        obj.file = v_file
        obj.additional_properties = additional_properties
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
