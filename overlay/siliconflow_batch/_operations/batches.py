"""The batch endpoints (``client.batches``): create, get, cancel and list."""

from __future__ import annotations

from collections.abc import Mapping

from .. import _parse
from . import Kwargs, operation, page_limit, path_id


@operation(parse=_parse.parse_batch, idempotent=False)
def create_batch(
    *,
    input_file_id: str,
    endpoint: str,
    completion_window: str,
    metadata: Mapping[str, str] | None,
    replace_model: str | None,
) -> Kwargs:
    """POST /batches, after every parameter has been checked; never sent twice unless the first try did nothing."""
    from siliconflow_batch_generated import models
    from siliconflow_batch_generated.api.default.create_batch import request_kwargs

    from .._exceptions import InputValidationError
    from ..validation import validate_create

    problems = validate_create(
        input_file_id=input_file_id,
        endpoint=endpoint,
        completion_window=completion_window,
        metadata=metadata,
        replace_model=replace_model,
    )
    if problems:
        raise InputValidationError("batch not created", problems)
    body = models.CreateBatchRequest(
        input_file_id=input_file_id,
        endpoint=models.BatchEndpoint(endpoint),
        completion_window=completion_window,
        metadata=None if metadata is None else models.CreateBatchRequestMetadata(additional_properties=dict(metadata)),
        replace=None if replace_model is None else models.CreateBatchRequestReplace(model=replace_model),
    )
    return request_kwargs(body=body)


@operation(parse=_parse.parse_batch, idempotent=True)
def get_batch(batch_id: str) -> Kwargs:
    """GET /batches/{batch_id}."""
    from siliconflow_batch_generated.api.default.get_batch import request_kwargs

    return request_kwargs(path_id("batch_id", batch_id))


@operation(parse=_parse.parse_batch, idempotent=True)  # cancelling twice is harmless: retried like a read
def cancel_batch(batch_id: str) -> Kwargs:
    """POST /batches/{batch_id}/cancel."""
    from siliconflow_batch_generated.api.default.cancel_batch import request_kwargs

    return request_kwargs(path_id("batch_id", batch_id))


@operation(parse=_parse.parse_batch_page, idempotent=True)
def list_batches(*, limit: int | None, after: str | None) -> Kwargs:
    """GET /batches?limit=&after=: one page, newest first."""
    from siliconflow_batch_generated.api.default.list_batches import request_kwargs
    from siliconflow_batch_generated.types import UNSET

    limit = page_limit(limit)
    return request_kwargs(limit=UNSET if limit is None else limit, after=UNSET if after is None else after)
