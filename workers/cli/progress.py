"""`submit --wait`: the job's live progress on stderr, from the same stream the WebSocket
and SSE clients get; stdout keeps only the final JSON."""

from __future__ import annotations

import asyncio
import sys
import uuid
from typing import TextIO

from workers.job.live import stream
from workers.job.live.hub import Hub
from workers.job.live.messages import Message
from workers.settings import get_settings

BAR = 30


def follow_until_done(job_id: uuid.UUID, *, owner: str, timeout_s: float) -> None:
    """Show the job's progress until it ends or `timeout_s` passes."""
    asyncio.run(_follow(job_id, owner, timeout_s, sys.stderr))


async def _follow(job_id: uuid.UUID, owner: str, timeout_s: float, out: TextIO) -> None:
    settings = get_settings()
    hub = Hub(redis_url=settings.live_redis_url, catchup_s=settings.live_catchup_s)
    await hub.start()
    interactive = out.isatty()
    try:
        async with asyncio.timeout(timeout_s):
            async for message in stream.follow(hub, job_id, owner=owner, idle_s=None):
                if message is not None:
                    out.write(_line(message, interactive))
                    out.flush()
    except TimeoutError:
        out.write(f"\nstill running after {timeout_s:g} s\n")
    finally:
        if interactive:
            out.write("\n")
        await hub.close()


def _line(message: Message, interactive: bool) -> str:
    end = "" if interactive else "\n"
    start = "\r" if interactive else ""
    kind = message["type"]
    if kind == "progress":
        value = int(message["progress"])
        filled = BAR * value // 100
        detail = message["phase"]
        if "queue_position" in message:
            detail += f" (position {message['queue_position']} in the provider's queue)"
        return f"{start}[{'#' * filled}{' ' * (BAR - filled)}] {value:3d}%  {detail:<40}{end}"
    if kind == "preview":
        return f"{start}preview: {message['frame_url']}\n"
    if kind == "error":
        return f"{start}{message['code']}: {message['message']}\n"
    return ""
