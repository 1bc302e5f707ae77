"""One problem found by client-side validation (an attrs class, loaded with the validation that makes one)."""

from __future__ import annotations

from attrs import frozen

from ._model import JSONModel

__all__ = ["Problem"]


@frozen
class Problem(JSONModel):
    """One problem found by client-side validation: where it is, and what limit it breaks.

    Frozen, so that problems can be compared and collected in sets.
    """

    field: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = f"line {self.line}: " if self.line is not None else ""
        return f"{where}{self.field}: {self.message}"
