# Generated from _async/account.py by scripts/unasync.py: edit that file, not this one.
"""``client.account``: the account behind the API key and its balances (``GET /user/info``)."""

from __future__ import annotations

from typing import Unpack

from .._options import RequestOptions
from .._parse import parse_account
from .._requests import account_request
from ..types import AccountInfo
from .sender import Sender

__all__ = ["Account"]


class Account:
    """Account operations of :class:`~siliconflow_batch.SiliconFlow`."""

    def __init__(self, sender: Sender) -> None:
        self._sender = sender

    def retrieve(self, **options: Unpack[RequestOptions]) -> AccountInfo:
        """Who the key belongs to and its balances; batch jobs are paid only from ``charge_balance``."""
        return parse_account(self._sender.send(account_request(), options=options))
