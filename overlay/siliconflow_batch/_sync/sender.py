# Generated from _async/sender.py by scripts/unasync.py: edit that file, not this one.
"""Sending one request with retries, as the :class:`~siliconflow_batch._http.Policy` decides."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypeVar

import httpx

from .. import _http
from .._exceptions import make_status_error
from .._http import Policy, RequestSpec
from .._options import RequestOptions, apply_options
from .._response import answer

if TYPE_CHECKING:
    from .._operations import Call

__all__ = ["Sender"]

T = TypeVar("T")


class Sender(Policy):
    """Sends requests with an ``httpx.Client``, retrying as the policy says."""

    def __init__(self, client: httpx.Client, **config: Any) -> None:
        super().__init__(**config)
        self.client = client

    def call(self, call: Call[T], options: RequestOptions | None = None) -> T:
        """Send an operation's request (with this call's ``options``) and return its answer, parsed.

        Inside ``with_raw_response`` it is the :class:`~siliconflow_batch.APIResponse` instead (``_response.answer``).
        """
        return answer(self.send(call.spec, options=options), call.parse)

    def open(self, call: Call[Any], options: RequestOptions | None = None) -> httpx.Response:
        """Send an operation's request and return its 2xx response with the body still to read (close it)."""
        return self.send(call.spec, stream=True, options=options)

    def send(self, spec: RequestSpec, *, stream: bool = False, options: RequestOptions | None = None) -> httpx.Response:
        """Send ``spec`` (with this call's ``options``); return a 2xx response (open, when ``stream``) or raise."""
        if options:
            spec = apply_options(spec, options)
        retries = 0
        while True:
            request = self.build(self.client, spec)
            try:
                response = self.client.send(request, stream=stream)
                if stream and not response.is_success:
                    response.read()
            except httpx.HTTPError as error:
                retry = self.on_error(spec, request, error, retries)
            else:
                retry_or_final = self.on_response(spec, response, retries)
                if retry_or_final is None:
                    if not response.is_success:
                        raise make_status_error(response)
                    if not stream:
                        # Break httpx's response <-> stream reference cycle now that the body is read: else
                        # every body waits for the cyclic collector, and a long listing holds many pages at once.
                        response.stream = httpx.ByteStream(response.content)
                    return response
                response.close()
                retry = retry_or_final
            self.log_retry(spec, retry, retries)
            _http.sleep(retry.delay)
            retries += 1
