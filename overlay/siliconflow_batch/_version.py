"""The installed distribution's version (one source of truth: pyproject.toml), read on first use."""

import functools

__all__ = ["package_version"]


@functools.cache
def package_version() -> str:
    """The version of the installed siliconflow-batch distribution (0.0.0 in a never-installed tree)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("siliconflow-batch")
    except PackageNotFoundError:
        return "0.0.0"
