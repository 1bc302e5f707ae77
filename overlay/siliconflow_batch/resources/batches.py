"""``client.batches``: create, retrieve, list, cancel, wait and results."""

from __future__ import annotations

import builtins
from collections import deque
from collections.abc import AsyncIterator, Iterable, Iterator, Mapping, Sequence
from itertools import islice
from typing import Any

import httpx

from .. import _http
from .._exceptions import APIConnectionError, BatchNotFinishedError, InternalServerError
from .._http import AsyncSender, Sender
from .._pagination import AsyncBatchPager, BatchPager
from .._parse import parse_batch
from .._requests import content_request
from .._results import Accountant, ResultLineError, Source, aiter_lines, iter_lines, parse_result_line
from .._retry import backoff_delay
from .._wait import DEFAULT_MAX_OUTAGE, TRANSIENT, OnUpdate, WaitState
from ..types import Batch, BatchMetadata, BatchPage, BatchResult
from ..validation import CHAT_COMPLETIONS
from .raw import AsyncRawBatches, RawBatches, create_spec

__all__ = ["AsyncBatches", "Batches"]

DEFAULT_POLL_INTERVAL = 30.0


IDEMPOTENCY_KEY = "idempotency_key"
# How far back (newest first) a create that may have succeeded is looked for.
LOOKUP_LIMIT = 500
# Failures after which a create may or may not have happened on the server.
AMBIGUOUS = (APIConnectionError, InternalServerError)


def _keyed(metadata: Mapping[str, str] | None, key: str | None) -> Mapping[str, str] | None:
    return metadata if key is None else {**(metadata or {}), IDEMPOTENCY_KEY: key}


def _has_key(batch: Batch, key: str) -> bool:
    metadata = batch.metadata
    return isinstance(metadata, BatchMetadata) and IDEMPOTENCY_KEY in metadata and metadata[IDEMPOTENCY_KEY] == key


def _result_sources(batch: Batch) -> list[tuple[Source, str]]:
    sources: list[tuple[Source, str]] = []
    if isinstance(batch.output_file_id, str) and batch.output_file_id:
        sources.append(("output", batch.output_file_id))
    if isinstance(batch.error_file_id, str) and batch.error_file_id:
        sources.append(("error", batch.error_file_id))
    return sources


def _check_finished(batch: Batch, partial: bool) -> None:
    if not partial and not batch.is_terminal:
        raise BatchNotFinishedError(
            f"batch {batch.id} is {batch.status}: its results are not final until it ends "
            "(wait for it, or pass partial=True for what it has so far)",
            batch=batch,
        )


def _read_failure(file_ref: str, error: httpx.HTTPError, failures: int) -> APIConnectionError:
    return APIConnectionError(f"reading {file_ref} broke off {failures} times, last with {type(error).__name__}")


class Batches:
    """Batch operations of :class:`~siliconflow_batch.SiliconFlow`."""

    def __init__(self, sender: Sender) -> None:
        self._sender = sender
        self.with_raw_response = RawBatches(sender)
        """The single-request calls, returning the HTTP response with the parsed value (:class:`APIResponse`)."""

    def create(
        self,
        *,
        input_file_id: str,
        completion_window: str = "24h",
        endpoint: str = CHAT_COMPLETIONS,
        metadata: Mapping[str, str] | None = None,
        replace_model: str | None = None,
        idempotency_key: str | None = None,
    ) -> Batch:
        """Create a batch over an uploaded file; it starts ``in_queue``.

        The parameters are checked first (window 24h..336h, at most 16 metadata pairs of <= 64/512 characters,
        the chat completions endpoint). The request is never sent twice unless the first try provably did
        nothing, so a retry cannot create a second batch.

        With ``idempotency_key`` (stored in the batch's metadata), a batch already created with the key (by an
        earlier run that crashed, say) is returned instead of creating another, and a create that may or may
        not have happened (a timeout, a dropped connection, a 5xx) is looked up among the newest batches and
        returned if found, else sent again: one batch per key, even through such failures.
        """
        spec = create_spec(input_file_id, endpoint, completion_window, _keyed(metadata, idempotency_key), replace_model)
        if idempotency_key is None:
            return parse_batch(self._sender.send(spec))
        existing = self.find(idempotency_key)
        if existing is not None:
            return existing
        for attempt in range(self._sender.max_retries + 1):
            try:
                return parse_batch(self._sender.send(spec))
            except AMBIGUOUS as error:
                last = error
            found = self.find(idempotency_key)
            if found is not None:
                return found
            _http.sleep(backoff_delay(attempt))
        raise last

    def find(self, idempotency_key: str) -> Batch | None:
        """The batch created with ``idempotency_key``, among the newest ``LOOKUP_LIMIT`` batches, or None."""
        for index, batch in enumerate(self.list(limit=100)):
            if _has_key(batch, idempotency_key):
                return batch
            if index + 1 >= LOOKUP_LIMIT:
                break
        return None

    def retrieve(self, batch_id: str) -> Batch:
        """The batch's current state."""
        return self.with_raw_response.retrieve(batch_id).parse()

    def cancel(self, batch_id: str) -> Batch:
        """Ask the server to cancel; the batch moves to ``cancelling``, then ``cancelled``."""
        return self.with_raw_response.cancel(batch_id).parse()

    def list(self, *, limit: int | None = None) -> BatchPager:
        """Every batch, newest first, fetched ``limit`` per page as you iterate."""
        return BatchPager(lambda after: self._page(limit, after))

    def _page(self, limit: int | None, after: str | None) -> BatchPage:
        return self.with_raw_response.list(limit=limit, after=after).parse()

    def wait(
        self,
        batch_id: str,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
        max_outage: float = DEFAULT_MAX_OUTAGE,
    ) -> Batch:
        """Poll until the batch is completed, failed, expired or cancelled, and return it.

        ``on_update`` is called with the batch whenever its status or counts change. ``timeout`` is a wall-clock
        deadline for the whole wait, the retries and request timeouts inside each poll included: then
        :class:`WaitTimeoutError` is raised with the last batch seen. A server that never answered (a wrong
        host or port) ends the wait at once; once it has answered, failing polls are tolerated for
        ``max_outage`` seconds in a row, and then the last error is raised.
        """
        state = WaitState(
            batch_id, poll_interval=poll_interval, timeout=timeout, on_update=on_update, max_outage=max_outage
        )
        while True:
            try:
                with _http.deadline_scope(state.deadline):
                    batch = self.retrieve(batch_id)
                if state.observe(batch):
                    return batch
            except TRANSIENT as error:
                state.failed(error)
            _http.sleep(state.next_delay())

    def wait_many(
        self,
        batch_ids: Sequence[str],
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
        max_outage: float = DEFAULT_MAX_OUTAGE,
    ) -> builtins.list[Batch]:
        """Wait for several batches, polling each once per round; returns them in the order given.

        ``timeout`` and ``max_outage`` are as in :meth:`wait`.
        """
        states = {
            i: WaitState(i, poll_interval=poll_interval, timeout=timeout, on_update=on_update, max_outage=max_outage)
            for i in batch_ids
        }
        pending = list(dict.fromkeys(batch_ids))
        while True:
            for batch_id in list(pending):
                try:
                    with _http.deadline_scope(states[batch_id].deadline):
                        batch = self.retrieve(batch_id)
                    if states[batch_id].observe(batch):
                        pending.remove(batch_id)
                except TRANSIENT as error:
                    states[batch_id].failed(error)
            if not pending:
                return [states[i].last for i in batch_ids]  # type: ignore[misc]
            _http.sleep(min(states[i].next_delay() for i in pending))

    def results(
        self,
        batch: Batch | str,
        *,
        expected_ids: Iterable[str] | None = None,
        skip_bad_lines: bool = False,
        partial: bool = False,
    ) -> Iterator[BatchResult]:
        """Stream the results of a batch: the output file, then the error file, one line at a time.

        Each custom_id is yielded once; with ``expected_ids`` (the input's), ids that neither file answers are
        yielded last with ``source="missing"``. A malformed line raises :class:`ResultLineError` unless
        ``skip_bad_lines``. A download that breaks off resumes where it stopped. Memory stays constant.
        A batch that has not ended raises :class:`BatchNotFinishedError`, unless ``partial`` asks for the
        results it has so far.
        """
        if isinstance(batch, str):
            batch = self.retrieve(batch)
        _check_finished(batch, partial)
        accountant = Accountant(expected_ids)
        first = accountant.first
        for source, file_ref in _result_sources(batch):
            for number, raw in enumerate(self._lines(file_ref), start=1):
                try:
                    result = parse_result_line(raw, number, source)
                except ResultLineError as error:
                    result = _skip_or_raise(error, skip_bad_lines)
                if result is not None and first(result):
                    yield result
        yield from accountant.missing()

    def _lines(self, file_ref: str) -> Iterator[bytes]:
        """The file's lines; if the stream breaks, it is fetched again and the lines already read are skipped."""
        done, failures = 0, 0
        while True:
            try:
                response = self._sender.send(content_request(file_ref), stream=True)
                try:
                    lines = iter_lines(response.iter_bytes())
                    if done:  # resuming: skip what was already read
                        deque(islice(lines, done), maxlen=0)
                    for line in lines:
                        done += 1
                        yield line
                finally:
                    response.close()
                return
            except httpx.HTTPError as error:
                failures += 1
                if failures > self._sender.max_retries:
                    raise _read_failure(file_ref, error, failures) from error
                _http.sleep(backoff_delay(failures - 1))


def _skip_or_raise(error: ResultLineError, skip_bad_lines: bool) -> BatchResult | None:
    """Log and skip a bad line (None) when asked to; raise it otherwise."""
    if not skip_bad_lines:
        raise error
    _http.logger.warning("skipped a bad result line: %s", error)
    return None


class AsyncBatches:
    """Batch operations of :class:`~siliconflow_batch.AsyncSiliconFlow`; each mirrors :class:`Batches`."""

    def __init__(self, sender: AsyncSender) -> None:
        self._sender = sender
        self.with_raw_response = AsyncRawBatches(sender)
        """The single-request calls, returning the HTTP response with the parsed value (:class:`APIResponse`)."""

    async def create(
        self,
        *,
        input_file_id: str,
        completion_window: str = "24h",
        endpoint: str = CHAT_COMPLETIONS,
        metadata: Mapping[str, str] | None = None,
        replace_model: str | None = None,
        idempotency_key: str | None = None,
    ) -> Batch:
        """Create a batch over an uploaded file; see :meth:`Batches.create`."""
        spec = create_spec(input_file_id, endpoint, completion_window, _keyed(metadata, idempotency_key), replace_model)
        if idempotency_key is None:
            return parse_batch(await self._sender.send(spec))
        existing = await self.find(idempotency_key)
        if existing is not None:
            return existing
        for attempt in range(self._sender.max_retries + 1):
            try:
                return parse_batch(await self._sender.send(spec))
            except AMBIGUOUS as error:
                last = error
            found = await self.find(idempotency_key)
            if found is not None:
                return found
            await _http.async_sleep(backoff_delay(attempt))
        raise last

    async def find(self, idempotency_key: str) -> Batch | None:
        """The batch created with ``idempotency_key``; see :meth:`Batches.find`."""
        index = 0
        async for batch in self.list(limit=100):
            if _has_key(batch, idempotency_key):
                return batch
            index += 1
            if index >= LOOKUP_LIMIT:
                break
        return None

    async def retrieve(self, batch_id: str) -> Batch:
        """The batch's current state."""
        return (await self.with_raw_response.retrieve(batch_id)).parse()

    async def cancel(self, batch_id: str) -> Batch:
        """Ask the server to cancel; see :meth:`Batches.cancel`."""
        return (await self.with_raw_response.cancel(batch_id)).parse()

    def list(self, *, limit: int | None = None) -> AsyncBatchPager:
        """Every batch, fetched ``limit`` per page: ``async for batch in client.batches.list()``."""
        return AsyncBatchPager(lambda after: self._page(limit, after))

    async def _page(self, limit: int | None, after: str | None) -> BatchPage:
        return (await self.with_raw_response.list(limit=limit, after=after)).parse()

    async def wait(
        self,
        batch_id: str,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
        max_outage: float = DEFAULT_MAX_OUTAGE,
    ) -> Batch:
        """Poll until the batch is terminal; see :meth:`Batches.wait`."""
        state = WaitState(
            batch_id, poll_interval=poll_interval, timeout=timeout, on_update=on_update, max_outage=max_outage
        )
        return await self._wait(state, None)

    async def _wait(self, state: WaitState, gate: Any) -> Batch:
        while True:
            try:
                with _http.deadline_scope(state.deadline):
                    if gate is None:
                        batch = await self.retrieve(state.batch_id)
                    else:
                        async with gate:
                            batch = await self.retrieve(state.batch_id)
                if state.observe(batch):
                    return batch
            except TRANSIENT as error:
                state.failed(error)
            await _http.async_sleep(state.next_delay())

    async def wait_many(
        self,
        batch_ids: Sequence[str],
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
        max_concurrency: int = 8,
        max_outage: float = DEFAULT_MAX_OUTAGE,
    ) -> builtins.list[Batch]:
        """Wait for many batches at once with at most ``max_concurrency`` polls in flight; results in order.

        If one wait fails, the others are cancelled (no polling task outlives the call) and its error is raised.
        """
        import asyncio  # not at module level: the sync client should not pay for it

        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
        gate = asyncio.Semaphore(max_concurrency)
        unique = list(dict.fromkeys(batch_ids))
        states = [
            WaitState(i, poll_interval=poll_interval, timeout=timeout, on_update=on_update, max_outage=max_outage)
            for i in unique
        ]
        tasks = [asyncio.ensure_future(self._wait(s, gate)) for s in states]
        try:
            await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
        finally:
            for task in tasks:
                task.cancel()  # a no-op for the finished ones
            await asyncio.gather(*tasks, return_exceptions=True)
        for task in tasks:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]
        done = {state.batch_id: task.result() for state, task in zip(states, tasks, strict=True)}
        return [done[i] for i in batch_ids]

    async def results(
        self,
        batch: Batch | str,
        *,
        expected_ids: Iterable[str] | None = None,
        skip_bad_lines: bool = False,
        partial: bool = False,
    ) -> AsyncIterator[BatchResult]:
        """Stream the results of a batch; see :meth:`Batches.results`."""
        if isinstance(batch, str):
            batch = await self.retrieve(batch)
        _check_finished(batch, partial)
        accountant = Accountant(expected_ids)
        first = accountant.first
        for source, file_ref in _result_sources(batch):
            number = 0
            async for raw in self._lines(file_ref):
                number += 1
                try:
                    result = parse_result_line(raw, number, source)
                except ResultLineError as error:
                    result = _skip_or_raise(error, skip_bad_lines)
                if result is not None and first(result):
                    yield result
        for missing in accountant.missing():
            yield missing

    async def _lines(self, file_ref: str) -> AsyncIterator[bytes]:
        done, failures = 0, 0
        while True:
            try:
                response = await self._sender.send(content_request(file_ref), stream=True)
                try:
                    index = 0
                    async for line in aiter_lines(response.aiter_bytes()):
                        if index >= done:
                            done += 1
                            yield line
                        index += 1
                finally:
                    await response.aclose()
                return
            except httpx.HTTPError as error:
                failures += 1
                if failures > self._sender.max_retries:
                    raise _read_failure(file_ref, error, failures) from error
                await _http.async_sleep(backoff_delay(failures - 1))
