from http import HTTPStatus
from typing import Any, cast

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.bad_request_data import BadRequestData
from ...models.file_list_envelope import FileListEnvelope
from ...models.list_files_purpose import ListFilesPurpose
from ...models.overloaded_data import OverloadedData
from ...types import UNSET, Response, Unset


def request_kwargs(
    *,
    purpose: ListFilesPurpose,
    limit: int | Unset = 10,
) -> dict[str, Any]:
    """The keyword arguments of ``httpx.Client.request`` for this operation: method, url, params, body."""

    params: dict[str, Any] = {}

    json_purpose = purpose.value
    params["purpose"] = json_purpose

    params["limit"] = limit

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/files",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> BadRequestData | FileListEnvelope | OverloadedData | str | None:
    if response.status_code == 200:
        response_200 = FileListEnvelope.from_dict(response.json())

        return response_200

    if response.status_code == 400:
        response_400 = BadRequestData.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = cast(str, response.json())
        return response_401

    if response.status_code == 403:
        response_403 = cast(str, response.json())
        return response_403

    if response.status_code == 404:
        response_404 = response.text
        return response_404

    if response.status_code == 429:
        response_429 = OverloadedData.from_dict(response.json())

        return response_429

    if response.status_code == 503:
        response_503 = OverloadedData.from_dict(response.json())

        return response_503

    if response.status_code == 504:
        response_504 = response.text
        return response_504

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[BadRequestData | FileListEnvelope | OverloadedData | str]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    purpose: ListFilesPurpose,
    limit: int | Unset = 10,
) -> Response[BadRequestData | FileListEnvelope | OverloadedData | str]:
    """Returns a list of files.

     Returns a list of files.

    Args:
        purpose (ListFilesPurpose):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BadRequestData | FileListEnvelope | OverloadedData | str]
    """

    kwargs = request_kwargs(
        purpose=purpose,
        limit=limit,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    purpose: ListFilesPurpose,
    limit: int | Unset = 10,
) -> BadRequestData | FileListEnvelope | OverloadedData | str | None:
    """Returns a list of files.

     Returns a list of files.

    Args:
        purpose (ListFilesPurpose):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BadRequestData | FileListEnvelope | OverloadedData | str
    """

    return sync_detailed(
        client=client,
        purpose=purpose,
        limit=limit,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    purpose: ListFilesPurpose,
    limit: int | Unset = 10,
) -> Response[BadRequestData | FileListEnvelope | OverloadedData | str]:
    """Returns a list of files.

     Returns a list of files.

    Args:
        purpose (ListFilesPurpose):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[BadRequestData | FileListEnvelope | OverloadedData | str]
    """

    kwargs = request_kwargs(
        purpose=purpose,
        limit=limit,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    purpose: ListFilesPurpose,
    limit: int | Unset = 10,
) -> BadRequestData | FileListEnvelope | OverloadedData | str | None:
    """Returns a list of files.

     Returns a list of files.

    Args:
        purpose (ListFilesPurpose):
        limit (int | Unset):  Default: 10.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        BadRequestData | FileListEnvelope | OverloadedData | str
    """

    return (
        await asyncio_detailed(
            client=client,
            purpose=purpose,
            limit=limit,
        )
    ).parsed
