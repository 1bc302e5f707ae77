"""``client.account``: the account behind the API key and its balances (``GET /user/info``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from .._operations import account as ops
from .._options import RequestOptions
from .._response import single_request
from .raw import AsyncRawAccount
from .resource import AsyncResource

if TYPE_CHECKING:
    from ..types import AccountInfo

__all__ = ["AsyncAccount"]


class AsyncAccount(AsyncResource[AsyncRawAccount]):
    """Account operations of :class:`~siliconflow_batch.AsyncSiliconFlow`."""

    @single_request
    async def retrieve(self, **options: Unpack[RequestOptions]) -> AccountInfo:
        """Who the key belongs to and its balances; batch jobs are paid only from ``charge_balance``."""
        return await self._sender.call(ops.user_info(), options)
