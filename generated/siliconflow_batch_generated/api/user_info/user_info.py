from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.overloaded_data import OverloadedData
from ...models.user_info_response_200 import UserInfoResponse200
from ...types import Response


def request_kwargs() -> dict[str, Any]:
    """The keyword arguments of ``httpx.Client.request`` for this operation: method, url, params, body."""

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/user/info",
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> OverloadedData | UserInfoResponse200 | None:
    if response.status_code == 200:
        response_200 = UserInfoResponse200.from_dict(response.json())

        return response_200

    if response.status_code == 429:
        response_429 = OverloadedData.from_dict(response.json())

        return response_429

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[OverloadedData | UserInfoResponse200]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[OverloadedData | UserInfoResponse200]:
    """Get user information

     Get user information including balance and status

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OverloadedData | UserInfoResponse200]
    """

    kwargs = request_kwargs()

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
) -> OverloadedData | UserInfoResponse200 | None:
    """Get user information

     Get user information including balance and status

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OverloadedData | UserInfoResponse200
    """

    return sync_detailed(
        client=client,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
) -> Response[OverloadedData | UserInfoResponse200]:
    """Get user information

     Get user information including balance and status

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[OverloadedData | UserInfoResponse200]
    """

    kwargs = request_kwargs()

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
) -> OverloadedData | UserInfoResponse200 | None:
    """Get user information

     Get user information including balance and status

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        OverloadedData | UserInfoResponse200
    """

    return (
        await asyncio_detailed(
            client=client,
        )
    ).parsed
