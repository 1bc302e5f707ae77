# Generated from _async/account.py by scripts/unasync.py: edit that file, not this one.
"""``client.account``: the account behind the API key and its balances (``GET /user/info``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from .._operations import account as ops
from .._options import RequestOptions
from .._response import single_request
from .raw import RawAccount
from .resource import Resource

if TYPE_CHECKING:
    from ..types import AccountInfo

__all__ = ["Account"]


class Account(Resource[RawAccount]):
    """Account operations of :class:`~siliconflow_batch.SiliconFlow`."""

    @single_request
    def retrieve(self, **options: Unpack[RequestOptions]) -> AccountInfo:
        """Who the key belongs to and its balances; batch jobs are paid only from ``charge_balance``."""
        return self._sender.call(ops.user_info(), options)
