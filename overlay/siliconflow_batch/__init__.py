"""Typed client for the SiliconFlow Batch API.

The batch workflow (upload, create, wait, results) is being built on top of the generated package
``siliconflow_batch_generated``; for now this package carries the version.
"""

from importlib.metadata import PackageNotFoundError, version

__all__ = ["__version__"]

try:
    __version__: str = version("siliconflow-batch")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0"
