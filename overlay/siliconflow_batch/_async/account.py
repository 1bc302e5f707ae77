"""``client.account``: the account behind the API key and its balances (``GET /user/info``)."""

from __future__ import annotations

from typing import Unpack

from .._options import RequestOptions
from .._parse import parse_account
from .._requests import account_request
from ..types import AccountInfo
from .sender import AsyncSender

__all__ = ["AsyncAccount"]


class AsyncAccount:
    """Account operations of :class:`~siliconflow_batch.AsyncSiliconFlow`."""

    def __init__(self, sender: AsyncSender) -> None:
        self._sender = sender

    async def retrieve(self, **options: Unpack[RequestOptions]) -> AccountInfo:
        """Who the key belongs to and its balances; batch jobs are paid only from ``charge_balance``."""
        return parse_account(await self._sender.send(account_request(), options=options))
