"""The optional dependencies of the data features (pyarrow, pandas), imported only when a feature needs one."""

from __future__ import annotations

from importlib import import_module
from types import ModuleType

from ._exceptions import SiliconFlowError

__all__ = ["DATA_EXTRA", "MissingExtraError", "require"]

DATA_EXTRA = "pip install 'siliconflow-batch[data]'"


class MissingExtraError(SiliconFlowError, ImportError):
    """A feature needs a package that is not installed; the message is one line naming what to install."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def require(module: str, what: str, install: str = DATA_EXTRA) -> ModuleType:
    """``module`` imported, or MissingExtraError: ``{what} needs {package}: {install}``."""
    try:
        return import_module(module)
    except ImportError as exc:
        package = module.split(".", 1)[0]
        raise MissingExtraError(f"{what} needs {package}, which is not installed: {install}") from exc
