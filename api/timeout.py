"""A request that has not begun its answer after `REQUEST_TIMEOUT_S` gets `503`.

The database's own timeouts (connect, statement) end most waits, but not all: a connection
whose server stopped answering mid-query (a hung network, a frozen proxy) blocks its
thread until the kernel gives up, which can take minutes. This middleware answers the
caller at the deadline anyway (`503`, `Retry-After`, JSON) and cancels the request's work;
a thread stuck in a blocking call ends when that call returns, and its answer is dropped.

Only the wait for the first byte is bounded: a stream (SSE) that has begun runs as long as
it likes. A route that waits on purpose (the images wait) extends its own deadline with
`allow_more()`.
"""

from __future__ import annotations

import asyncio
import json
import logging
from dataclasses import dataclass

from starlette.requests import Request
from starlette.types import ASGIApp, Message, Receive, Scope, Send

log = logging.getLogger(__name__)

SCOPE_KEY = "abstrakt.deadline"
# Requests past their deadline whose work is still unwinding (kept from garbage collection).
_unwinding: set[asyncio.Task[None]] = set()


@dataclass
class Deadline:
    at: float  # the event loop's clock


def allow_more(request: Request, seconds: float) -> None:
    """Let this request wait `seconds` longer than `REQUEST_TIMEOUT_S` before answering."""
    deadline = request.scope.get(SCOPE_KEY)
    if isinstance(deadline, Deadline):
        deadline.at += seconds


class RequestTimeout:
    def __init__(self, app: ASGIApp, *, timeout_s: float, retry_after_s: int) -> None:
        self.app = app
        self.timeout_s = timeout_s
        self.retry_after_s = retry_after_s

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        loop = asyncio.get_running_loop()
        deadline = Deadline(loop.time() + self.timeout_s)
        scope[SCOPE_KEY] = deadline
        started = False
        late = False

        async def guarded_send(message: Message) -> None:
            nonlocal started
            if late:
                return  # the caller already has its 503
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        task = asyncio.ensure_future(self.app(scope, receive, guarded_send))
        while True:
            await asyncio.wait({task}, timeout=max(0.0, deadline.at - loop.time()))
            if task.done() or started:
                await task  # its result, or its exception for the server to report
                return
            if deadline.at <= loop.time():
                break  # else the route extended its deadline meanwhile
        late = True
        log.warning(
            "api.request_timeout method=%s path=%s timeout_s=%s",
            scope.get("method"),
            scope.get("path"),
            self.timeout_s,
        )
        task.cancel()
        _unwinding.add(task)
        task.add_done_callback(_forget)
        await self._refuse(send)

    async def _refuse(self, send: Send) -> None:
        body = json.dumps(
            {
                "detail": f"the request took longer than {self.timeout_s:g} s "
                f"(REQUEST_TIMEOUT_S); try again in {self.retry_after_s} s"
            }
        ).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                    (b"retry-after", str(self.retry_after_s).encode()),
                ],
            }
        )
        await send({"type": "http.response.body", "body": body})


def _forget(task: asyncio.Task[None]) -> None:
    _unwinding.discard(task)
    if not task.cancelled() and task.exception() is not None:
        log.info("api.request_timeout_unwound error=%r", task.exception())
