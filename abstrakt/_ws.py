"""`stream`: one `generate` over the WebSocket `/v1/stream`, sync and async.

The key goes in the upgrade request's `Authorization` header, never in a message. A
connection lost before the server accepted the job sends the same `generate` again — it
carries an idempotency key, so the server answers with the job the first one made, never a
second one; lost after, the job is followed again with `subscribe` from the last `seq`
seen, so the caller sees no gap and no duplicate. A `generate` refused for the key's rate
is sent again after the server's `retry_after`, as an HTTP 429 is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Iterator
from typing import Any

from websockets.asyncio.client import connect as connect_async
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.sync.client import connect as connect_sync

from abstrakt._http import Options
from abstrakt.errors import (
    AbstraktError,
    APIConnectionError,
    RateLimitError,
    StreamError,
    error_for_status,
    error_for_stream_message,
)
from abstrakt.events import AcceptedEvent, ErrorEvent, Event, UnknownEvent, parse_message
from abstrakt.sse import JobCursor

PATH = "/v1/stream"
POLICY_VIOLATION = 1008
# Replies to our own protocol messages: not the job's news.
_REPLIES = frozenset({"subscribed", "unsubscribed", "pong"})
_LOST = (ConnectionClosed, InvalidHandshake, OSError, TimeoutError)


class GenerateSession:
    """What one `generate` has seen so far, across connections; no I/O."""

    def __init__(self, body: dict[str, Any]) -> None:
        self.body = body
        self.cursor: JobCursor | None = None

    @property
    def done(self) -> bool:
        return self.cursor is not None and self.cursor.done

    def opening(self) -> str:
        if self.cursor is None:
            return json.dumps({"action": "generate", **self.body})
        return json.dumps(
            {"action": "subscribe", "job_id": self.cursor.job_id, "after": self.cursor.last_seq}
        )

    def receive(self, raw: str | bytes) -> Event | None:
        """The event to hand on for one message, if any; raises for a refusal."""
        data = json.loads(raw)
        if not isinstance(data, dict):
            return None
        event = parse_message(data)
        if isinstance(event, ErrorEvent) and event.job_id is None:
            raise error_for_stream_message(data)
        if isinstance(event, AcceptedEvent):
            if self.cursor is not None:
                return None
            self.cursor = JobCursor(event.job_id)
            return event
        if self.cursor is None or event.job_id != self.cursor.job_id:
            return None
        if isinstance(event, UnknownEvent) and event.type in _REPLIES:
            return None
        return self.cursor.take(event)


def _refused(exc: InvalidStatus) -> AbstraktError:
    response = exc.response
    try:
        body: Any = json.loads(response.body or b"")
    except ValueError:
        body = {"detail": (response.body or b"").decode(errors="replace") or None}
    return error_for_status(response.status_code, body)


def _lost_or_refused(exc: BaseException) -> APIConnectionError:
    """The error to retry after for a lost connection; raises for a closing that refuses
    (1008, policy violation: the server's refusal message, if any, was raised before)."""
    if isinstance(exc, ConnectionClosed) and exc.rcvd is not None:
        if exc.rcvd.code == POLICY_VIOLATION:
            reason = exc.rcvd.reason or "the server refused the connection"
            raise StreamError(reason, code="policy_violation") from exc
    return APIConnectionError(f"the stream connection was lost: {exc or type(exc).__name__}")


def stream_sync(options: Options, body: dict[str, Any]) -> Iterator[Event]:
    session = GenerateSession(body)
    failures = 0
    while True:
        try:
            with connect_sync(
                options.ws_url(PATH),
                additional_headers=options.headers(),
                open_timeout=options.timeout_s,
            ) as ws:
                with contextlib.suppress(ConnectionClosed):
                    ws.send(session.opening())  # a refusal may be on its way: read on
                for raw in ws:
                    event = session.receive(raw)
                    if event is None:
                        continue
                    failures = 0
                    yield event
                    if session.done:
                        return
            error: AbstraktError = APIConnectionError("the server closed the stream early")
        except InvalidStatus as exc:
            raise _refused(exc) from exc
        except RateLimitError as exc:
            error = exc  # only a `generate` is rate-limited: sent again after the wait
        except _LOST as exc:
            error = _lost_or_refused(exc)
        delay = options.retry_delay(error, failures)
        if delay is None:
            raise error
        time.sleep(delay)
        failures += 1


async def stream_async(options: Options, body: dict[str, Any]) -> AsyncIterator[Event]:
    session = GenerateSession(body)
    failures = 0
    while True:
        try:
            async with connect_async(
                options.ws_url(PATH),
                additional_headers=options.headers(),
                open_timeout=options.timeout_s,
            ) as ws:
                with contextlib.suppress(ConnectionClosed):
                    await ws.send(session.opening())  # a refusal may be on its way: read on
                async for raw in ws:
                    event = session.receive(raw)
                    if event is None:
                        continue
                    failures = 0
                    yield event
                    if session.done:
                        return
            error: AbstraktError = APIConnectionError("the server closed the stream early")
        except InvalidStatus as exc:
            raise _refused(exc) from exc
        except RateLimitError as exc:
            error = exc  # only a `generate` is rate-limited: sent again after the wait
        except _LOST as exc:
            error = _lost_or_refused(exc)
        delay = options.retry_delay(error, failures)
        if delay is None:
            raise error
        await asyncio.sleep(delay)
        failures += 1
