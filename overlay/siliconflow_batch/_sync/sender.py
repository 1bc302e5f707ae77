# Generated from _async/sender.py by scripts/unasync.py: edit that file, not this one.
"""Sending one request with retries, as the :class:`~siliconflow_batch._http.Policy` decides."""

from __future__ import annotations

from typing import Any

import httpx

from .. import _http
from .._exceptions import make_status_error
from .._http import Policy, RequestSpec, detach_stream
from .._options import RequestOptions, apply_options

__all__ = ["Sender"]


class Sender(Policy):
    """Sends requests with an ``httpx.Client``, retrying as the policy says."""

    def __init__(self, client: httpx.Client, **config: Any) -> None:
        super().__init__(**config)
        self.client = client

    def send(self, spec: RequestSpec, *, stream: bool = False, options: RequestOptions | None = None) -> httpx.Response:
        """Send ``spec`` (with this call's ``options``); return a 2xx response (open, when ``stream``) or raise."""
        spec = apply_options(spec, options or {})
        retries = 0
        while True:
            request = self.build(self.client, spec)
            started = _http.monotonic()
            try:
                response = self.client.send(request, stream=stream)
                if stream and not response.is_success:
                    response.read()
            except httpx.HTTPError as error:
                retry = self.on_error(spec, request, error, retries)
            else:
                retry_or_final = self.on_response(spec, response, retries, started)
                if retry_or_final is None:
                    if response.is_success:
                        return response if stream else detach_stream(response)
                    raise make_status_error(response)
                response.close()
                retry = retry_or_final
            self.log_retry(spec, retry, retries)
            _http.sleep(retry.delay)
            retries += 1
