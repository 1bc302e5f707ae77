# Generated from _async/account.py by scripts/unasync.py: edit that file, not this one.
"""``client.account``: the account behind the API key and its balances (``GET /user/info``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Unpack

from .. import _ops
from .._options import RequestOptions
from .sender import Sender

if TYPE_CHECKING:
    from ..types import AccountInfo

__all__ = ["Account"]


class Account:
    """Account operations of :class:`~siliconflow_batch.SiliconFlow`."""

    def __init__(self, sender: Sender) -> None:
        self._sender = sender

    def retrieve(self, **options: Unpack[RequestOptions]) -> AccountInfo:
        """Who the key belongs to and its balances; batch jobs are paid only from ``charge_balance``."""
        return _ops.parse_account(self._sender.send(_ops.account_request(), options=options))
