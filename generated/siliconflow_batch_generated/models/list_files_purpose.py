from enum import StrEnum


class ListFilesPurpose(StrEnum):
    """The values the API documents for ListFilesPurpose.

    A value the API adds later is kept as it is rather than rejected.
    """

    BATCH = "batch"

    def __str__(self) -> str:
        return str(self.value)

    @classmethod
    def _missing_(cls, value: object) -> "ListFilesPurpose | None":
        """Keep a value this client does not know yet (say a status the server added) instead of raising.

        The result is an instance of this class that is not one of its members, holding the raw value.
        """
        if not isinstance(value, str):
            return None
        member = str.__new__(cls, value)
        member._name_ = value.upper()
        member._value_ = value
        return member
