"""`WS /v1/stream`: the seed's WebSocket. Submit and follow jobs, several per connection.

Client messages are JSON objects with an `action`: `generate` (a job request, as
`POST /v1/jobs` takes it), `subscribe` (a job submitted elsewhere, from `after`),
`unsubscribe`, `cancel` and `ping`. The key comes once per connection: as `api_key` in the
first message, or as the upgrade request's `Authorization: Bearer` header. Answers and job
messages have a `type`; see README "Live progress". A bad message gets an `error` and the
connection stays open; a bad key gets an `error` and the connection closes (1008).
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import uuid
from typing import Any

import anyio.to_thread
from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from pydantic import ValidationError

from api.live import hub_of
from workers.errors import DomainError, InvalidInput
from workers.job import producer
from workers.job.live import stream
from workers.job.live.messages import Message
from workers.job.schemas import JobCreate
from workers.key import ratelimit
from workers.key.caller import ANONYMOUS, Caller
from workers.key.service import authenticate
from workers.settings import get_settings

log = logging.getLogger(__name__)
router = APIRouter()

POLICY_VIOLATION = 1008
MAX_JOBS_PER_CONNECTION = 100
# A client this many messages behind gets no more progress estimates until it catches up;
# the log's messages (those with a seq) are always queued.
SLOW_CLIENT_BACKLOG = 1000


class ProtocolError(Exception):
    def __init__(self, code: str, message: str, **extra: Any) -> None:
        super().__init__(message)
        self.code, self.extra = code, extra


@router.websocket("/v1/stream")
async def stream_socket(socket: WebSocket) -> None:
    await socket.accept()
    await StreamConnection(socket).serve()


class StreamConnection:
    """One client: reads its actions, and writes every job's messages through one queue."""

    def __init__(self, socket: WebSocket) -> None:
        self.socket = socket
        self.hub = hub_of(socket)
        self.caller: Caller | None = ANONYMOUS if get_settings().auth_disabled else None
        self.outgoing: asyncio.Queue[Message | None] = asyncio.Queue()
        self.follows: dict[uuid.UUID, asyncio.Task[None]] = {}

    async def serve(self) -> None:
        writer = asyncio.create_task(self._write())
        refused = False
        try:
            header = self.socket.headers.get("authorization", "")
            if self.caller is None and header.lower().startswith("bearer "):
                refused = not await self._authenticate(header[7:].strip())
            while not refused:
                refused = not await self._handle(await self.socket.receive_text())
        except WebSocketDisconnect:
            pass
        finally:
            for task in self.follows.values():
                task.cancel()
            await self.outgoing.put(None)
            with contextlib.suppress(Exception):
                await writer  # every message queued so far is sent, the refusal included
        if refused:
            with contextlib.suppress(Exception):
                await self.socket.close(code=POLICY_VIOLATION)

    async def _write(self) -> None:
        while (message := await self.outgoing.get()) is not None:
            try:
                await self.socket.send_text(json.dumps(message, separators=(",", ":")))
            except (WebSocketDisconnect, RuntimeError):
                return

    def send(self, message: Message) -> None:
        if "seq" not in message and message["type"] == "progress":
            if self.outgoing.qsize() >= SLOW_CLIENT_BACKLOG:
                return  # a later estimate or the log's next event supersedes it
        self.outgoing.put_nowait(message)

    async def _authenticate(self, token: str) -> bool:
        caller = await anyio.to_thread.run_sync(authenticate, token) if token else None
        if caller is None:
            self._error(
                "unauthorized",
                "a valid API key is required: send 'api_key' in the first message or "
                "'Authorization: Bearer ak_…' on the upgrade request",
            )
            return False
        self.caller = caller
        return True

    async def _handle(self, text: str) -> bool:
        """Act on one client message; False when the connection must close."""
        try:
            request = json.loads(text)
        except json.JSONDecodeError as exc:
            self._error("invalid_message", f"not JSON: {exc.msg} at character {exc.pos}")
            return True
        if not isinstance(request, dict) or not isinstance(request.get("action"), str):
            self._error("invalid_message", 'a message is a JSON object with an "action"')
            return True
        token = request.pop("api_key", None)
        if self.caller is None:
            if not await self._authenticate(token if isinstance(token, str) else ""):
                return False
        action = request.pop("action")
        handler = self._ACTIONS.get(action)
        if handler is None:
            self._error(
                "unknown_action",
                f"unknown action {action!r}; use one of: {', '.join(sorted(self._ACTIONS))}",
            )
            return True
        try:
            await handler(self, request)
        except ProtocolError as exc:
            self._error(exc.code, str(exc), **exc.extra)
        except DomainError as exc:
            extra: dict[str, Any] = {}
            if isinstance(exc, InvalidInput):
                extra["errors"] = [{"loc": list(e.loc), "msg": e.msg} for e in exc.errors]
            job_id = request.get("job_id")
            if isinstance(job_id, str):
                extra["job_id"] = job_id
            self._error(exc.code, str(exc), **extra)
        return True

    def _error(self, code: str, message: str, **extra: Any) -> None:
        self.send({"type": "error", "code": code, "message": message, **extra})

    @property
    def _owner(self) -> str:
        assert self.caller is not None
        return self.caller.owner

    async def _generate(self, request: dict[str, Any]) -> None:
        self._check_room()
        await self._take_rate()
        try:
            body = JobCreate.model_validate(request)
        except ValidationError as exc:
            raise ProtocolError(
                "invalid_input",
                "the job request is not valid; see errors",
                errors=[
                    {"loc": [str(part) for part in e["loc"]], "msg": e["msg"]} for e in exc.errors()
                ],
            ) from None
        assert self.caller is not None
        caller = self.caller
        accepted = await anyio.to_thread.run_sync(lambda: producer.submit(body, caller=caller))
        self.send(
            {
                "type": "accepted",
                "job_id": str(accepted.id),
                "status": accepted.status,
                "cache_hit": accepted.cache_hit,
            }
        )
        self._follow(accepted.id, after=0)

    async def _subscribe(self, request: dict[str, Any]) -> None:
        job_id = _job_id(request)
        after = request.get("after", 0)
        if not isinstance(after, int) or isinstance(after, bool) or after < 0:
            raise ProtocolError("invalid_message", '"after" is the last seq seen: an integer ≥ 0')
        self._check_room(job_id)
        await stream.load_log(job_id, self._owner)  # NotFound before anything is sent
        self.send({"type": "subscribed", "job_id": str(job_id), "after": after})
        self._follow(job_id, after=after)

    async def _unsubscribe(self, request: dict[str, Any]) -> None:
        job_id = _job_id(request)
        task = self.follows.pop(job_id, None)
        if task is not None:
            task.cancel()
        self.send({"type": "unsubscribed", "job_id": str(job_id)})

    async def _cancel(self, request: dict[str, Any]) -> None:
        job_id, owner = _job_id(request), self._owner
        canceled = await anyio.to_thread.run_sync(lambda: producer.cancel(job_id, owner=owner))
        self.send({"type": "canceled", "job_id": str(job_id), "status": canceled.status})

    async def _ping(self, _: dict[str, Any]) -> None:
        self.send({"type": "pong"})

    _ACTIONS = {
        "generate": _generate,
        "subscribe": _subscribe,
        "unsubscribe": _unsubscribe,
        "cancel": _cancel,
        "ping": _ping,
    }

    def _check_room(self, job_id: uuid.UUID | None = None) -> None:
        """Refuse to follow one more job past the connection's cap (before any write)."""
        if job_id not in self.follows and len(self.follows) >= MAX_JOBS_PER_CONNECTION:
            raise ProtocolError(
                "too_many_jobs",
                f"a connection follows at most {MAX_JOBS_PER_CONNECTION} jobs at once; "
                "unsubscribe from one, or open another connection",
            )

    def _follow(self, job_id: uuid.UUID, *, after: int) -> None:
        previous = self.follows.pop(job_id, None)
        if previous is not None:
            previous.cancel()
        self.follows[job_id] = asyncio.create_task(self._relay(job_id, after))

    async def _relay(self, job_id: uuid.UUID, after: int) -> None:
        try:
            async for message in stream.follow(
                self.hub, job_id, owner=self._owner, after=after, idle_s=None
            ):
                if message is not None:
                    self.send(message)
        except DomainError as exc:
            self._error(exc.code, str(exc), job_id=str(job_id))
        except Exception:
            log.exception("stream.relay_failed job_id=%s", job_id)
            self._error("internal", "the job's stream failed; subscribe again", job_id=str(job_id))
        finally:
            if self.follows.get(job_id) is asyncio.current_task():
                del self.follows[job_id]

    async def _take_rate(self) -> None:
        """A `generate` counts against the key's request rate, as a `POST /v1/jobs` does."""
        caller = self.caller
        if caller is None or caller.rpm is None:
            return
        rpm = caller.rpm
        decision = await anyio.to_thread.run_sync(
            lambda: ratelimit.take(f"key-{caller.key_id}", rpm=rpm)
        )
        if not decision.allowed:
            retry_after = max(1, math.ceil(decision.retry_after_s))
            raise ProtocolError(
                "rate_limited",
                f"this key allows {decision.limit} requests per minute; retry in {retry_after} s",
                retry_after=retry_after,
            )


def _job_id(request: dict[str, Any]) -> uuid.UUID:
    try:
        return uuid.UUID(str(request["job_id"]))
    except (KeyError, ValueError):
        raise ProtocolError("invalid_message", '"job_id" must be a job\'s id (a UUID)') from None
