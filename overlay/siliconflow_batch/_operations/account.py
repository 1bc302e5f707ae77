"""The account endpoint (``client.account``): who the key belongs to, and its balances."""

from __future__ import annotations

from .. import _parse
from . import Kwargs, operation


@operation(parse=_parse.parse_account, idempotent=True)
def user_info() -> Kwargs:
    """GET /user/info."""
    from siliconflow_batch_generated.api.user_info.user_info import request_kwargs

    return request_kwargs()
