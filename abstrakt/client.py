"""`AbstraktClient`: the blocking client, and `JobHandle`, one submitted job."""

from __future__ import annotations

import time
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from types import TracebackType
from typing import Any

import httpx

from abstrakt import _ws
from abstrakt._http import Options, Transport, is_event_stream, stream_refused
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
from abstrakt.batches import BatchHandle, BatchStatus, batch_body
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


class Deadline:
    """A caller's timeout, as the time left."""

    def __init__(self, timeout_s: float | None, job_id: str) -> None:
        self.timeout_s = timeout_s
        self.job_id = job_id
        self.at = None if timeout_s is None else time.monotonic() + timeout_s

    def left(self) -> float | None:
        """Seconds left; raises `JobTimeoutError` once none are."""
        if self.at is None:
            return None
        left = self.at - time.monotonic()
        if left <= 0:
            raise JobTimeoutError(
                f"job {self.job_id} did not end within {self.timeout_s:g} s", job_id=self.job_id
            )
        return left


class JobHandle:
    """A job submitted (or found again with `AbstraktClient.get_handle`)."""

    def __init__(
        self, transport: Transport, job_id: str, *, accepted: Mapping[str, Any] | None = None
    ) -> None:
        self._transport = transport
        self.id = job_id
        self._cursor = JobCursor(job_id)
        self._final: CompleteEvent | ErrorEvent | None = None
        # Set once the job is known to have ended without its last message seen here.
        self._known: JobStatus | None = known_from_answer(job_id, accepted)

    def __repr__(self) -> str:
        return f"JobHandle(id={self.id!r})"

    @property
    def path(self) -> str:
        return f"/v1/jobs/{self.id}"

    @property
    def last_seq(self) -> int:
        """The `seq` of the last message `events()` gave out; the next call resumes after it."""
        return self._cursor.last_seq

    def status(self) -> JobStatus:
        """The job now (one `GET`)."""
        return JobStatus.from_json(self._transport.request("GET", self.path))

    def cancel(self) -> str:
        """Cancel the job (at its provider too); its status after. A finished job raises
        `ConflictError`."""
        answer = self._transport.request("POST", f"{self.path}/cancel")
        return str(answer["status"])

    def result(self, timeout: float | None = None) -> Result:
        """Wait for the job to end: its result, or `JobFailedError` / `JobCanceledError`;
        `JobTimeoutError` after `timeout` seconds (the job goes on).

        Waits on the event stream; polls the job when the stream cannot be opened.
        """
        return self._wait(Deadline(timeout, self.id), None)

    def events(self, after: int | None = None) -> Iterator[Event]:
        """The job's messages in order, ending with its `complete` or `error`.

        Reconnects by itself when the connection drops, from the last `seq` seen. Leaving
        the loop early is fine: the next `events()` of this handle goes on from there
        (`after=0` replays the job's log from the start). Raises `StreamUnavailableError`
        when the server offers no event stream.
        """
        if after is not None:
            self._cursor = JobCursor(self.id, after)
        return self._follow(self._cursor, Deadline(None, self.id))

    def _wait(self, deadline: Deadline, on_event: Callable[[Event], object] | None) -> Result:
        if self._final is None and not (self._known and self._known.done):
            # A cursor of its own: waiting does not move where `events()` resumes.
            cursor = JobCursor(self.id, self._cursor.last_seq)
            try:
                for event in self._follow(cursor, deadline):
                    if on_event is not None:
                        on_event(event)
            except (StreamUnavailableError, APIConnectionError):
                return self._poll(deadline)
        return self._outcome()

    def _outcome(self) -> Result:
        if self._final is not None:
            return outcome_of_event(self._final)
        assert self._known is not None
        return outcome_of_status(self._known)

    def _poll(self, deadline: Deadline) -> Result:
        for delay in poll_delays():
            job = self.status()
            if job.done:
                self._known = job
                return outcome_of_status(job)
            left = deadline.left()
            time.sleep(delay if left is None else min(delay, left))
        raise AssertionError("unreachable")  # pragma: no cover

    def _follow(self, cursor: JobCursor, deadline: Deadline) -> Iterator[Event]:
        failures = 0
        opened = False
        retry_ms: int | None = None
        while not cursor.done:
            decoder: SSEDecoder | None = None
            delivered = False
            try:
                with self._transport.stream(
                    f"{self.path}/events", headers=cursor.headers(), read_s=deadline.left()
                ) as response:
                    if not is_event_stream(response):
                        raise StreamUnavailableError(
                            f"{self.path}/events answered {response.headers.get('content-type')}"
                        )
                    opened, decoder = True, SSEDecoder()
                    for line in response.iter_lines():
                        deadline.left()
                        sse = decoder.feed(line)
                        event = cursor.accept(sse) if sse is not None else None
                        if event is None:
                            continue
                        failures, delivered = 0, True
                        self._note(event)
                        yield event
                        if cursor.done:
                            return
                if not delivered and self._ended_before(cursor):
                    return
                error: Exception = APIConnectionError(
                    f"{self.path}/events closed before the job ended"
                )
            except APIStatusError as exc:
                if not opened and stream_refused(exc):
                    self.status()  # NotFoundError when the job itself is unknown
                    raise StreamUnavailableError(
                        f"the server has no event stream for jobs ({exc})"
                    ) from exc
                if not isinstance(exc, RateLimitError | ServerError):
                    raise
                error = exc  # retried as any call is: after its Retry-After, or a backoff
            except APIConnectionError as exc:
                deadline.left()  # a read cut short by the deadline is a timeout, not a drop
                error = exc
            if decoder is not None:
                failures = 0 if decoder.pinged else failures  # it worked for a while
                retry_ms = decoder.retry_ms or retry_ms
            delay = self._transport.options.reconnect_delay(error, failures, retry_ms)
            if delay is None:
                raise error
            left = deadline.left()
            time.sleep(delay if left is None else min(delay, left))
            failures += 1

    def _ended_before(self, cursor: JobCursor) -> bool:
        """After a stream that closed with nothing new: whether the job had already ended
        at or before the cursor (a resume past its last message), rather than a drop."""
        job = self.status()
        if job.done:
            self._known = job
            cursor.done = True
        return job.done

    def _note(self, event: Event) -> None:
        if isinstance(event, CompleteEvent | ErrorEvent) and event.job_id is not None:
            self._final = event


class AbstraktClient:
    """The blocking client.

    `api_key` and `base_url` default to `ABSTRAKT_API_KEY` and `ABSTRAKT_BASE_URL`
    (else http://localhost:8000). `timeout` bounds each HTTP request; `max_retries` how
    often a call that is safe to repeat is retried (see `abstrakt._http`). Use it as a
    context manager, or call `close()`, to release its connections.
    """

    def __init__(
        self,
        api_key: str | None = None,
        base_url: str | None = None,
        *,
        timeout: float | None = None,
        max_retries: int | None = None,
        http_client: httpx.Client | None = None,
    ) -> None:
        self.options = Options.resolve(base_url, api_key, timeout=timeout, max_retries=max_retries)
        self._transport = Transport(self.options, http_client)
        if http_client is None:
            # Code that never closes its client (the seed's does not) leaks no connections.
            weakref.finalize(self, self._transport.http.close)

    def __enter__(self) -> AbstraktClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        self._transport.close()

    def submit(
        self, model: str, arguments: Mapping[str, Any], *, preview: bool | None = None
    ) -> JobHandle:
        """Submit a job and return at once. `arguments` is `{"input": {...}}` plus, if
        wanted, `priority`, `idempotency_key`, `cache` and `preview`."""
        body = submit_body(model, arguments, preview)
        accepted = self._transport.request("POST", "/v1/jobs", json=body)
        return JobHandle(self._transport, str(accepted["id"]), accepted=accepted)

    def run(
        self,
        model: str,
        arguments: Mapping[str, Any],
        *,
        timeout: float | None = None,
        preview: bool | None = None,
    ) -> Result:
        """Submit a job and wait for its result (see `JobHandle.result`)."""
        return self.submit(model, arguments, preview=preview).result(timeout)

    async def run_async(
        self,
        model: str,
        arguments: Mapping[str, Any],
        *,
        timeout: float | None = None,
        preview: bool | None = None,
    ) -> Result:
        """`run`, awaitable: on an async client of the same options made for this call
        (an async connection pool belongs to one event loop)."""
        from abstrakt.aio import AsyncAbstraktClient

        async with AsyncAbstraktClient.from_options(self.options) as client:
            return await client.run(model, arguments, timeout=timeout, preview=preview)

    def subscribe(
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
        """`run`, calling `on_enqueue(job_id)` once submitted and `on_queue_update(event)`
        for each progress and preview message. Progress log lines (`message`) reach the
        callback only `with_logs`. Without an event stream on the server it just waits."""
        handle = self.submit(model, arguments, preview=preview)
        if on_enqueue is not None:
            on_enqueue(handle.id)
        notify = None if on_queue_update is None else queue_updates(on_queue_update, with_logs)
        return handle._wait(Deadline(timeout, handle.id), notify)

    def stream(
        self, model: str, arguments: Mapping[str, Any], *, preview: bool | None = None
    ) -> Iterator[Event]:
        """Generate over the WebSocket: `accepted`, then the job's messages until its
        `complete` or `error` (a failed job's `error` is yielded, not raised)."""
        return _ws.stream_sync(self.options, submit_body(model, arguments, preview))

    def submit_batch(
        self,
        items: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        idempotency_key: str | None = None,
        webhook_url: str | None = None,
    ) -> BatchHandle:
        """Submit up to 1,000 `(model, {"input": {...}})` items at once: all are accepted
        or none (an invalid item raises `InvalidRequestError` naming its index).
        `webhook_url` receives one signed `batch.completed` when every item has ended."""
        body = batch_body(items, idempotency_key, webhook_url)
        accepted = self._transport.request("POST", "/v1/batches", json=body)
        return BatchHandle(self._transport, str(accepted["id"]))

    def batch(
        self,
        items: Sequence[tuple[str, Mapping[str, Any]]],
        *,
        on_progress: Callable[[BatchStatus], object] | None = None,
        timeout: float | None = None,
        idempotency_key: str | None = None,
        webhook_url: str | None = None,
    ) -> BatchStatus:
        """Submit a batch and wait until every item ended, calling `on_progress` with the
        counts as they change."""
        handle = self.submit_batch(items, idempotency_key=idempotency_key, webhook_url=webhook_url)
        return handle.wait(on_progress=on_progress, timeout=timeout)

    def get_handle(self, job_id: str) -> JobHandle:
        """A handle on a job submitted earlier (by this or another process)."""
        return JobHandle(self._transport, job_id)

    def status(self, job_id: str) -> JobStatus:
        return self.get_handle(job_id).status()

    def cancel(self, job_id: str) -> str:
        return self.get_handle(job_id).cancel()
