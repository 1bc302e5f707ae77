from enum import StrEnum


class FilePurpose(StrEnum):
    """The values the API documents for FilePurpose.

    A value the API adds later is kept as it is rather than rejected; a known value in another case
    (``"COMPLETED"``, as some OpenAI-compatible servers send) reads as that value.
    """

    BATCH = "batch"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "FilePurpose | None":
        """Match a known value in any case; keep a value this client does not know yet instead of raising.

        An unknown value gives an instance of this class that is not one of its members, holding the raw value.
        """
        if not isinstance(value, str):
            return None
        for known in cls:
            if known.value.lower() == value.lower():
                return known
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return member
