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
from abstrakt._http import AsyncTransport, Options
from abstrakt._jobs import (
    JobStatus,
    outcome_of_event,
    outcome_of_status,
    poll_delays,
    submit_body,
)
from abstrakt.client import _is_event_stream, queue_updates, stream_refused
from abstrakt.errors import (
    APIConnectionError,
    APIStatusError,
    JobTimeoutError,
    StreamUnavailableError,
)
from abstrakt.events import CompleteEvent, ErrorEvent, Event, PreviewEvent, ProgressEvent
from abstrakt.result import Result
from abstrakt.sse import JobCursor, SSEDecoder

# A callback may be a plain function or a coroutine function.
AsyncQueueUpdate = Callable[[ProgressEvent | PreviewEvent], object]


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
        self._known: JobStatus | None = None
        result = (accepted or {}).get("result")
        if (accepted or {}).get("status") == "succeeded" and isinstance(result, Mapping):
            self._known = JobStatus.from_json({"id": job_id, **(accepted or {})})

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
        if self._known is not None and self._known.done:
            return outcome_of_status(self._known)
        try:
            async with asyncio.timeout(timeout):
                return await self._wait_unbounded(on_event)
        except TimeoutError as exc:
            raise JobTimeoutError(
                f"job {self.id} did not end within {timeout:g} s", job_id=self.id
            ) from exc

    async def _wait_unbounded(self, on_event: Callable[[Event], object] | None) -> Result:
        if self._final is None:
            cursor = JobCursor(self.id, self._cursor.last_seq)
            try:
                async for event in self._follow(cursor):
                    if on_event is not None:
                        answer = on_event(event)
                        if inspect.isawaitable(answer):
                            await answer
            except (StreamUnavailableError, APIConnectionError):
                return await self._poll()
        assert self._final is not None
        return outcome_of_event(self._final)

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
        while not cursor.done:
            try:
                async with self._transport.stream(
                    f"{self.path}/events", headers=cursor.headers()
                ) as response:
                    if not _is_event_stream(response):
                        raise StreamUnavailableError(
                            f"{self.path}/events answered {response.headers.get('content-type')}"
                        )
                    opened = True
                    decoder = SSEDecoder()
                    async for line in response.aiter_lines():
                        sse = decoder.feed(line)
                        event = cursor.accept(sse) if sse is not None else None
                        if event is None:
                            continue
                        failures = 0
                        self._note(event)
                        yield event
                        if cursor.done:
                            return
                error: Exception = APIConnectionError(
                    f"{self.path}/events closed before the job ended"
                )
            except APIStatusError as exc:
                if not opened and stream_refused(exc):
                    await self.status()
                    raise StreamUnavailableError(
                        f"the server has no event stream for jobs ({exc})"
                    ) from exc
                raise
            except APIConnectionError as exc:
                error = exc
            delay = self._transport.options.retry_delay(error, failures)
            if delay is None:
                raise error
            await asyncio.sleep(delay)
            failures += 1

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
        on_queue_update: AsyncQueueUpdate | None = None,
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
