"""`GET /v1/jobs/{id}/events`: a job's progress as Server-Sent Events, resumable.

Each message is one of the WebSocket's (`progress`, `preview`, `complete`, `error`); those
from the durable log carry their sequence number as the SSE `id`, so a client reconnecting
with `Last-Event-ID` (browsers do it by themselves) gets what it missed, then live events.
A finished job's stream replays and closes.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncGenerator, AsyncIterator
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Query, Request
from fastapi.responses import StreamingResponse

from api.auth import current_caller
from api.live import hub_of
from workers.db.base import INT32_MAX
from workers.job.live import stream
from workers.job.live.messages import Message
from workers.key.caller import Caller

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])

KEEPALIVE_S = 15.0


@router.get(
    "/{job_id}/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def job_events(
    job_id: uuid.UUID,
    request: Request,
    caller: Annotated[Caller, Depends(current_caller)],
    after: Annotated[
        int | None, Query(ge=0, le=INT32_MAX, description="Resume after this seq.")
    ] = None,
    last_event_id: Annotated[int | None, Header(ge=0, le=INT32_MAX)] = None,
) -> StreamingResponse:
    """The job's events as `text/event-stream`, from `Last-Event-ID` (or `after`) on."""
    start = last_event_id if last_event_id is not None else (after or 0)
    messages = stream.follow(
        hub_of(request), job_id, owner=caller.owner, after=start, idle_s=KEEPALIVE_S
    )
    first = await anext(messages, _END)  # raises NotFound (404) before the 200 is sent
    return StreamingResponse(
        _sse(first, messages),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


_END: Message = {"type": "end"}  # the stream had nothing to send (it was seen to its end)


async def _sse(
    first: Message | None, messages: AsyncGenerator[Message | None, None]
) -> AsyncIterator[str]:
    try:
        yield "retry: 1000\n\n"
        if first is _END:
            return
        yield _frame(first)
        async for message in messages:
            yield _frame(message)
    finally:
        await messages.aclose()  # leaves the hub at once when the client goes away


def _frame(message: Message | None) -> str:
    if message is None:
        return ": ping\n\n"
    head = f"event: {message['type']}\n"
    if "seq" in message:
        head += f"id: {message['seq']}\n"
    return head + f"data: {json.dumps(message, separators=(',', ':'))}\n\n"
