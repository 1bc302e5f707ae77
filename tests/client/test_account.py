"""client.account.retrieve(): GET /user/info, the envelope opened, balances as Decimals, against the emulator."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

import siliconflow_batch as sf
from siliconflow_batch.testing import Emulator

from fakes import FakeAPI, envelope, make_client, run

PAGE_EXAMPLE = {  # the get-user-info page's example answer
    "id": "userid",
    "name": "username",
    "image": "user_avatar_image_url",
    "email": "user_email_address",
    "isAdmin": False,
    "balance": "0.88",
    "status": "normal",
    "introduction": "user_introduction",
    "role": "user_role",
    "chargeBalance": "88.00",
    "totalBalance": "88.88",
}


def test_the_page_example_reads_as_decimals(mode: str, api: FakeAPI) -> None:
    api.on("GET /user/info", envelope(PAGE_EXAMPLE, message="OK"))
    account = run(make_client(mode, api).account.retrieve())
    assert isinstance(account, sf.AccountInfo)
    assert (account.balance, account.charge_balance, account.total_balance) == (
        Decimal("0.88"),
        Decimal("88.00"),
        Decimal("88.88"),
    )
    assert account.charge_balance + account.balance == account.total_balance  # type: ignore[operator]
    assert account.can_pay_for_batches
    assert account.email == "user_email_address"


@pytest.mark.parametrize("odd", ["", "n/a", "NaN", None, [], {"v": 1}])
def test_a_balance_of_another_shape_is_none_not_an_error(mode: str, api: FakeAPI, odd: object) -> None:
    api.on("GET /user/info", envelope({**PAGE_EXAMPLE, "chargeBalance": odd}))
    account = run(make_client(mode, api).account.retrieve())
    assert account.charge_balance is None
    assert not account.can_pay_for_batches
    assert account.total_balance == Decimal("88.88")


def test_an_error_envelope_is_an_error(mode: str, api: FakeAPI) -> None:
    api.on("GET /user/info", envelope(None, status=False, code=20012, message="no such user"))
    with pytest.raises(sf.EnvelopeError, match="no such user"):
        run(make_client(mode, api).account.retrieve())


@pytest.mark.parametrize("charged", ["88.00", "0.00"])
def test_the_emulator_answers_user_info(charged: str) -> None:
    emulator = Emulator(charge_balance=charged)
    http = httpx.Client(transport=emulator.transport())
    with sf.SiliconFlow(api_key=emulator.api_key, base_url="http://emulator/v1", http_client=http) as client:
        account = client.account.retrieve()
    assert account.charge_balance == Decimal(charged)
    assert account.can_pay_for_batches is (charged != "0.00")
