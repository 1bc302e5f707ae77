"""The installed distribution's version (one source of truth: pyproject.toml)."""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__: str = version("siliconflow-batch")
except PackageNotFoundError:  # a source tree that was never installed
    __version__ = "0.0.0"
