"""What both clients share: reading their configuration, and showing it (never the key)."""

from __future__ import annotations

import logging
import os

import httpx

from ._defaults import DEFAULT_BASE_URL
from ._exceptions import SiliconFlowError
from ._http import Policy

__all__ = ["Settings", "client_config", "setup_logging"]


def client_config(
    api_key: str | None, base_url: str | None, timeout: float | httpx.Timeout, max_retries: int
) -> dict[str, object]:
    """The sender's settings from a client's arguments and the environment; raises on a missing or bad key."""
    key = api_key if api_key is not None else os.environ.get("SILICONFLOW_API_KEY")
    key = key.strip() if isinstance(key, str) else key  # as read from a file: a trailing newline is common
    if not key:
        raise SiliconFlowError("no API key: pass api_key=... or set SILICONFLOW_API_KEY")
    if not all("!" <= char <= "~" for char in key):  # the message never quotes the key
        raise SiliconFlowError("the API key holds a space, control or non-ASCII character; check where it came from")
    url = base_url or os.environ.get("SILICONFLOW_BASE_URL") or DEFAULT_BASE_URL
    if not url.startswith(("http://", "https://")):
        raise SiliconFlowError(f"base_url must start with http:// or https://, got {url!r}")
    return {
        "api_key": key,
        "base_url": url,
        "timeout": timeout if isinstance(timeout, httpx.Timeout) else httpx.Timeout(timeout),
        "max_retries": max_retries,
    }


class Settings:
    """What both clients expose of their configuration (never the key)."""

    _sender: Policy

    @property
    def base_url(self) -> str:
        """The API's base URL."""
        return self._sender.base_url

    @property
    def max_retries(self) -> int:
        """How many times a failed request is retried."""
        return self._sender.max_retries

    @property
    def timeout(self) -> httpx.Timeout:
        """The timeout of each request."""
        return self._sender.timeout

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self._sender!r})"


def setup_logging() -> None:
    """``SILICONFLOW_LOG=debug`` or ``info`` turns on the package's logging to stderr, without code (as OPENAI_LOG).

    Called once, when the first client class is loaded. Any other value, or none, leaves logging as it is.
    """
    level = {"debug": logging.DEBUG, "info": logging.INFO}.get(os.environ.get("SILICONFLOW_LOG", "").strip().lower())
    if level is None:
        return
    global _log_handler
    logger = logging.getLogger("siliconflow_batch")
    if _log_handler is None:
        _log_handler = logging.StreamHandler()
        _log_handler.setFormatter(logging.Formatter("[%(asctime)s %(name)s %(levelname)s] %(message)s"))
        logger.addHandler(_log_handler)
    logger.setLevel(level)


_log_handler: logging.Handler | None = None


setup_logging()
