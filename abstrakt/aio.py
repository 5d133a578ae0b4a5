"""`AsyncAbstraktClient` and `AsyncJobHandle`: the same calls as `abstrakt.client`, awaitable.

The rules (retries, resuming, polling when there is no stream) are the blocking client's;
a caller's timeout here is enforced by asyncio, to the moment.
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import AsyncIterator, Callable, Mapping
from types import TracebackType
from typing import Any

import httpx

from abstrakt import _ws
from abstrakt._http import AsyncTransport, Options, is_event_stream, stream_refused
from abstrakt._jobs import (
    JobStatus,
    QueueUpdate,
    known_from_answer,
    outcome_of_event,
    outcome_of_status,
    poll_delays,
    queue_updates,
    submit_body,
)
from abstrakt.errors import (
    APIConnectionError,
    APIStatusError,
    JobTimeoutError,
    RateLimitError,
    ServerError,
    StreamUnavailableError,
)
from abstrakt.events import CompleteEvent, ErrorEvent, Event
from abstrakt.result import Result
from abstrakt.sse import JobCursor, SSEDecoder


class AsyncJobHandle:
    """A submitted job, awaitable; `events()` is an async iterator."""

    def __init__(
        self,
        transport: AsyncTransport,
        job_id: str,
        *,
        accepted: Mapping[str, Any] | None = None,
    ) -> None:
        self._transport = transport
        self.id = job_id
        self._cursor = JobCursor(job_id)
        self._final: CompleteEvent | ErrorEvent | None = None
        # Set once the job is known to have ended without its last message seen here.
        self._known: JobStatus | None = known_from_answer(job_id, accepted)

    def __repr__(self) -> str:
        return f"AsyncJobHandle(id={self.id!r})"

    @property
    def path(self) -> str:
        return f"/v1/jobs/{self.id}"

    @property
    def last_seq(self) -> int:
        return self._cursor.last_seq

    async def status(self) -> JobStatus:
        return JobStatus.from_json(await self._transport.request("GET", self.path))

    async def cancel(self) -> str:
        answer = await self._transport.request("POST", f"{self.path}/cancel")
        return str(answer["status"])

    async def result(self, timeout: float | None = None) -> Result:
        """See `JobHandle.result`."""
        return await self._wait(timeout, None)

    def events(self, after: int | None = None) -> AsyncIterator[Event]:
        """See `JobHandle.events`."""
        if after is not None:
            self._cursor = JobCursor(self.id, after)
        return self._follow(self._cursor)

    async def _wait(
        self, timeout: float | None, on_event: Callable[[Event], object] | None
    ) -> Result:
        scope = asyncio.timeout(timeout)
        try:
            async with scope:
                return await self._wait_unbounded(on_event)
        except TimeoutError as exc:
            if not scope.expired():
                raise
            raise JobTimeoutError(
                f"job {self.id} did not end within {timeout:g} s", job_id=self.id
            ) from exc

    async def _wait_unbounded(self, on_event: Callable[[Event], object] | None) -> Result:
        if self._final is None and not (self._known and self._known.done):
            cursor = JobCursor(self.id, self._cursor.last_seq)
            try:
                async for event in self._follow(cursor):
                    if on_event is not None:
                        answer = on_event(event)
                        if inspect.isawaitable(answer):
                            await answer
            except (StreamUnavailableError, APIConnectionError):
                return await self._poll()
        if self._final is not None:
            return outcome_of_event(self._final)
        assert self._known is not None
        return outcome_of_status(self._known)

    async def _poll(self) -> Result:
        for delay in poll_delays():
            job = await self.status()
            if job.done:
                self._known = job
                return outcome_of_status(job)
            await asyncio.sleep(delay)
        raise AssertionError("unreachable")  # pragma: no cover

    async def _follow(self, cursor: JobCursor) -> AsyncIterator[Event]:
        failures = 0
        opened = False
        retry_ms: int | None = None
        while not cursor.done:
            decoder: SSEDecoder | None = None
            delivered = False
            try:
                async with self._transport.stream(
                    f"{self.path}/events", headers=cursor.headers()
                ) as response:
                    if not is_event_stream(response):
                        raise StreamUnavailableError(
                            f"{self.path}/events answered {response.headers.get('content-type')}"
                        )
                    opened, decoder = True, SSEDecoder()
                    async for line in response.aiter_lines():
                        sse = decoder.feed(line)
                        event = cursor.accept(sse) if sse is not None else None
                        if event is None:
                            continue
                        failures, delivered = 0, True
                        self._note(event)
                        yield event
                        if cursor.done:
                            return
                if not delivered and await self._ended_before(cursor):
                    return
                error: Exception = APIConnectionError(
                    f"{self.path}/events closed before the job ended"
                )
            except APIStatusError as exc:
                if not opened and stream_refused(exc):
                    await self.status()  # NotFoundError when the job itself is unknown
                    raise StreamUnavailableError(
                        f"the server has no event stream for jobs ({exc})"
                    ) from exc
                if not isinstance(exc, RateLimitError | ServerError):
                    raise
                error = exc  # retried as any call is: after its Retry-After, or a backoff
            except APIConnectionError as exc:
                error = exc
            if decoder is not None:
                failures = 0 if decoder.pinged else failures
                retry_ms = decoder.retry_ms or retry_ms
            delay = self._transport.options.reconnect_delay(error, failures, retry_ms)
            if delay is None:
                raise error
            await asyncio.sleep(delay)
            failures += 1

    async def _ended_before(self, cursor: JobCursor) -> bool:
        job = await self.status()
        if job.done:
            self._known = job
            cursor.done = True
        return job.done

    def _note(self, event: Event) -> None:
        if isinstance(event, CompleteEvent | ErrorEvent) and event.job_id is not None:
            self._final = event


class AsyncAbstraktClient:
    """The asyncio client; arguments as `AbstraktClient`'s. Use `async with`, or
    `await aclose()`."""

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        http_client: httpx.AsyncClient | None = None,
    ) -> None:
        self.options = Options.resolve(base_url, api_key, timeout=timeout, max_retries=max_retries)
        self._transport = AsyncTransport(self.options, http_client)

    @classmethod
    def from_options(cls, options: Options) -> AsyncAbstraktClient:
        client = cls.__new__(cls)
        client.options = options
        client._transport = AsyncTransport(options)
        return client

    async def __aenter__(self) -> AsyncAbstraktClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._transport.aclose()

    async def submit(
        self, model: str, arguments: Mapping[str, Any], *, preview: bool | None = None
    ) -> AsyncJobHandle:
        body = submit_body(model, arguments, preview)
        accepted = await self._transport.request("POST", "/v1/jobs", json=body)
        return AsyncJobHandle(self._transport, str(accepted["id"]), accepted=accepted)

    async def run(
        self,
        model: str,
        arguments: Mapping[str, Any],
        *,
        timeout: float | None = None,
        preview: bool | None = None,
    ) -> Result:
        handle = await self.submit(model, arguments, preview=preview)
        return await handle.result(timeout)

    run_async = run  # the seed's name; on this client `run` is already awaitable

    async def subscribe(
        self,
        model: str,
        arguments: Mapping[str, Any],
        *,
        on_queue_update: QueueUpdate | None = None,
        on_enqueue: Callable[[str], object] | None = None,
        with_logs: bool = False,
        timeout: float | None = None,
        preview: bool | None = None,
    ) -> Result:
        """See `AbstraktClient.subscribe`; callbacks may also be coroutine functions."""
        handle = await self.submit(model, arguments, preview=preview)
        if on_enqueue is not None:
            answer = on_enqueue(handle.id)
            if inspect.isawaitable(answer):
                await answer
        notify = None if on_queue_update is None else queue_updates(on_queue_update, with_logs)
        return await handle._wait(timeout, notify)

    def stream(
        self, model: str, arguments: Mapping[str, Any], *, preview: bool | None = None
    ) -> AsyncIterator[Event]:
        """See `AbstraktClient.stream`; an async iterator."""
        return _ws.stream_async(self.options, submit_body(model, arguments, preview))

    def get_handle(self, job_id: str) -> AsyncJobHandle:
        return AsyncJobHandle(self._transport, job_id)

    async def status(self, job_id: str) -> JobStatus:
        return await self.get_handle(job_id).status()

    async def cancel(self, job_id: str) -> str:
        return await self.get_handle(job_id).cancel()
