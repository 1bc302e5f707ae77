"""``client.batches``: create, retrieve, list, cancel, wait and results."""

from __future__ import annotations

import builtins
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, nullcontext
from typing import TYPE_CHECKING, Unpack

import httpx

from .. import _http
from .._batch_logic import (
    LOOKUP_LIMIT,
    check_finished,
    create_key,
    has_key,
    keyed,
    maybe_created,
    name_the_key,
    read_failure,
    result_sources,
    skip_or_raise,
)
from .._defaults import DEFAULT_COMPLETION_WINDOW, DEFAULT_MAX_OUTAGE, DEFAULT_POLL_INTERVAL, DEFAULT_POLLS_IN_FLIGHT
from .._each import async_each, async_gate
from .._exceptions import APIError, InputValidationError, PaginationError, without_query
from .._failures import Failure, may_pass, of_error
from .._operations import batches as ops
from .._operations import files as file_ops
from .._options import PollOptions, RequestOptions
from .._response import aside, single_request
from .._results import Accountant, ResultLineError, Splitter, parse_result_line
from .._retry import Attempts
from .._wait import OnUpdate, WaitState
from ..validation import CHAT_COMPLETIONS
from .pagination import AsyncBatchPager
from .polling import persist
from .raw import AsyncRawBatches
from .resource import AsyncResource

if TYPE_CHECKING:
    from ..types import Batch, BatchPage, BatchResult

__all__ = ["AsyncBatches"]


class AsyncBatches(AsyncResource[AsyncRawBatches]):
    """Batch operations of :class:`~siliconflow_batch.AsyncSiliconFlow`."""

    @single_request
    async def create(
        self,
        *,
        input_file_id: str,
        completion_window: str = DEFAULT_COMPLETION_WINDOW,
        endpoint: str = CHAT_COMPLETIONS,
        metadata: Mapping[str, str] | None = None,
        replace_model: str | None = None,
        idempotency_key: str | None = None,
        look_first: bool = True,
        **options: Unpack[RequestOptions],
    ) -> Batch:
        """Create a batch over an uploaded file; it starts ``in_queue``.

        The parameters are checked first (window 24h..336h, the chat completions endpoint, metadata of
        <= 64/512 characters and at most 15 pairs: the vendor's 16 include the idempotency key). The request is
        never sent twice unless the first try provably did nothing or a lookup showed nothing was created.

        Every create carries an idempotency key in its metadata (``idempotency_key``): ``idempotency_key``, or
        one made for this call when none is given. A create that may or may not have happened (a timeout, a
        dropped connection, a cut body, a 5xx) is looked up among the newest batches by its key and returned
        if found, else sent again: one batch per call, even through such failures. When that cannot be
        resolved, the error says the batch may exist, and its key. Pass your own ``idempotency_key`` to make
        re-runs safe too: a batch already created with it (by an earlier run that crashed, say) is returned
        instead of creating another. ``look_first=False`` says that no earlier try with this key can have been
        made (a job that has just recorded its intent to create): the first try is sent without a lookup, which
        saves a list request; an ambiguous failure is still looked up before any retry.
        """
        key, chosen = create_key(metadata, idempotency_key)
        sent = keyed(metadata, key)
        try:
            call = ops.create_batch(
                input_file_id=input_file_id,
                endpoint=endpoint,
                completion_window=completion_window,
                metadata=sent,
                replace_model=replace_model,
            )
        except InputValidationError as error:
            raise InputValidationError(error.subject, name_the_key(error.problems, sent or {})) from None
        look = look_first and chosen  # a key made for this call: no earlier try can have used it
        failure: APIError | None = None
        attempts = Attempts(self._sender.max_retries)
        delay: float | None = 0.0  # none before the first try
        while delay is not None:
            if delay:
                await _http.async_sleep(delay)
            delay = attempts.next_delay()  # the budget is spent by tries: max_retries + 1 of them
            if look:
                try:
                    found = await self.find(key, **options)
                except APIError as error:
                    if may_pass(error):  # cannot tell whether it exists: do not send it again yet
                        failure = failure or error
                        continue
                    if failure is None:
                        raise
                    raise maybe_created(failure, key) from error  # a lookup that will not work: the create's is news
                if found is not None:
                    return found
            try:
                return await self._sender.call(call, options)
            except APIError as error:
                kind = of_error(error)
                if kind is Failure.AMBIGUOUS:
                    failure, look = error, True
                elif kind is Failure.FINAL or failure is None:
                    raise  # refused, or nothing done with no earlier doubt: the batch does not exist
                # Else nothing was done this time, but an earlier try may have made the batch: look, then retry.
        assert failure is not None  # every way round the loop that does not return sets it
        try:
            found = await self.find(key, **options)
        except APIError as error:
            raise maybe_created(failure, key) from error
        if found is not None:
            return found
        raise maybe_created(failure, key)

    async def find(self, idempotency_key: str, **options: Unpack[RequestOptions]) -> Batch | None:
        """The batch created with ``idempotency_key``, among the newest ``LOOKUP_LIMIT`` batches, or None.

        A server that ignores the list's cursor (the vendor's guide says paging is not supported yet) shows
        only its first page: that is where a batch just created is, and the search ends there.
        """
        index = 0
        try:
            with aside():  # inside a raw create, the lookup's pages are not the create's own response
                async for batch in self.list(limit=100, **options):
                    if has_key(batch, idempotency_key):
                        return batch
                    index += 1
                    if index >= LOOKUP_LIMIT:
                        break
        except PaginationError:
            _http.logger.debug("the batch list ignores its cursor: looked for %s on its first page", idempotency_key)
        return None

    @single_request
    async def retrieve(self, batch_id: str, **options: Unpack[RequestOptions]) -> Batch:
        """The batch's current state."""
        return await self._sender.call(ops.get_batch(batch_id), options)

    @single_request
    async def cancel(self, batch_id: str, **options: Unpack[RequestOptions]) -> Batch:
        """Ask the server to cancel; the batch moves to ``cancelling``, then ``cancelled``."""
        return await self._sender.call(ops.cancel_batch(batch_id), options)

    def list(self, *, limit: int | None = None, **options: Unpack[RequestOptions]) -> AsyncBatchPager:
        """Every batch, newest first, fetched ``limit`` per page as you iterate."""
        return AsyncBatchPager(lambda after: self.page(limit=limit, after=after, **options))

    @single_request(raw_name="list")
    async def page(
        self, *, limit: int | None = None, after: str | None = None, **options: Unpack[RequestOptions]
    ) -> BatchPage:
        """One page of the list, newest first: ``limit`` batches after the batch ``after`` (``list`` pages on)."""
        return await self._sender.call(ops.list_batches(limit=limit, after=after), options)

    async def wait(
        self,
        batch_id: str,
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
        max_outage: float = DEFAULT_MAX_OUTAGE,
        max_poll_interval: float | None = None,
        **options: Unpack[PollOptions],
    ) -> Batch:
        """Poll until the batch is completed, failed, expired or cancelled, and return it.

        ``on_update`` is called with the batch whenever its status or counts change. ``timeout`` is a wall-clock
        deadline for the whole wait, the retries and request timeouts inside each poll included: then
        :class:`WaitTimeoutError` is raised with the last batch seen. A server that never answered (a wrong
        host or port) ends the wait at once; once it has answered, failing polls are tolerated for
        ``max_outage`` seconds in a row, and then the last error is raised. With ``max_poll_interval``, each poll
        that shows no change waits 1.5 times longer, up to that cap, and a change brings ``poll_interval``
        back (a 24-hour window needs no poll every 30 s). A Retry-After from the server is always honoured.
        """
        state = WaitState(
            batch_id,
            poll_interval=poll_interval,
            timeout=timeout,
            on_update=on_update,
            max_outage=max_outage,
            max_poll_interval=max_poll_interval,
        )
        return await self._wait(state, nullcontext(), options)

    async def _wait(self, state: WaitState, polls: AbstractAsyncContextManager[object], options: PollOptions) -> Batch:
        """Poll (inside ``polls``, the bound) and observe until the batch is terminal, in the one loop (``persist``)."""

        async def poll() -> bool:
            async with polls:
                batch = await self.retrieve(state.batch_id, **options)
            return state.observe(batch)

        await persist(poll, state)
        assert state.last is not None  # observe() kept the terminal batch that ended the loop
        return state.last

    async def wait_many(
        self,
        batch_ids: Sequence[str],
        *,
        poll_interval: float = DEFAULT_POLL_INTERVAL,
        timeout: float | None = None,
        on_update: OnUpdate | None = None,
        max_concurrency: int = DEFAULT_POLLS_IN_FLIGHT,
        max_outage: float = DEFAULT_MAX_OUTAGE,
        max_poll_interval: float | None = None,
        **options: Unpack[PollOptions],
    ) -> builtins.list[Batch]:
        """Wait for many batches; returns them in the order given (the timings as in :meth:`wait`).

        The async client waits for all at once, at most ``max_concurrency`` polls in flight, and, if one wait
        fails, cancels the others (no polling task outlives the call); the sync client waits for them in turn.
        """
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be >= 1, got {max_concurrency}")
        unique = list(dict.fromkeys(batch_ids))
        states = [
            WaitState(
                i,
                poll_interval=poll_interval,
                timeout=timeout,
                on_update=on_update,
                max_outage=max_outage,
                max_poll_interval=max_poll_interval,
            )
            for i in unique
        ]
        polls = async_gate(max_concurrency)
        done: dict[str, Batch] = {}

        async def wait(state: WaitState) -> None:
            done[state.batch_id] = await self._wait(state, polls, options)

        await async_each(states, wait, len(states))
        return [done[i] for i in batch_ids]

    async def results(
        self,
        batch: Batch | str,
        *,
        expected_ids: Iterable[str] | None = None,
        skip_bad_lines: bool = False,
        partial: bool = False,
        **options: Unpack[RequestOptions],
    ) -> AsyncIterator[BatchResult]:
        """Stream the results of a batch: the output file, then the error file, one line at a time.

        Each custom_id is yielded once; with ``expected_ids`` (the input's), ids that neither file answers are
        yielded last with ``source="missing"``. A malformed line raises :class:`ResultLineError` unless
        ``skip_bad_lines``. A download that breaks off resumes where it stopped. Memory holds the ids seen (for the
        once-each rule), never the results.
        A batch that has not ended raises :class:`BatchNotFinishedError`, unless ``partial`` asks for the
        results it has so far.
        """
        if isinstance(batch, str):
            batch = await self.retrieve(batch, **options)
        check_finished(batch, partial)
        accountant = Accountant(expected_ids)
        first = accountant.first
        for source, file_ref in result_sources(batch):
            number = 0
            async for lines in self._line_groups(file_ref, options):
                for raw in lines:
                    number += 1
                    try:
                        result = parse_result_line(raw, number, source)
                    except ResultLineError as error:
                        result = skip_or_raise(error, skip_bad_lines)
                    if result is not None and first(result):
                        yield result
        for missing in accountant.missing():
            yield missing

    async def _line_groups(self, file_ref: str, options: RequestOptions) -> AsyncIterator[builtins.list[bytes]]:
        """The file's lines, a list per chunk read; if the stream breaks, it is fetched again from the start.

        The lines already handed on are skipped then. The body is split here, in the loop that reads it, and handed
        on a chunk's lines at a time: no generator step per line (this loop is the hot path of a results file of
        millions of lines).
        """
        call, done, attempts = file_ops.get_file_content(file_ref), 0, Attempts(self._sender.max_retries)
        while True:
            try:
                response = await self._sender.open(call, options)
                try:
                    splitter, skip = Splitter(), done
                    async for chunk in response.aiter_bytes():
                        lines = splitter.feed(chunk)
                        if skip:  # read before the stream broke: handed on already
                            cut = min(skip, len(lines))
                            lines, skip = lines[cut:], skip - cut
                        if lines:
                            done += len(lines)
                            yield lines
                    lines = splitter.end()[skip:]
                    if lines:
                        done += len(lines)
                        yield lines
                finally:
                    await response.aclose()
                return
            except httpx.HTTPError as error:
                delay = attempts.delay_after(error)
                if delay is None:
                    raise read_failure(f"reading {without_query(file_ref)}", error, attempts.failures) from error
                await _http.async_sleep(delay)
