"""The live messages of a job, typed: what the SSE stream and the WebSocket both carry.

`parse_message` turns a decoded message into one of the classes below; a `type` this
version does not know becomes an `UnknownEvent` rather than an error, so a newer server
never breaks an older client. Every event keeps the decoded message in `raw`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from abstrakt.result import Result


@dataclass(frozen=True)
class AcceptedEvent:
    """The WebSocket took a `generate`: the new job's id (a cache hit is already done)."""

    job_id: str
    status: str
    cache_hit: bool
    raw: dict[str, Any] = field(repr=False)
    type: str = "accepted"
    seq: int | None = None


@dataclass(frozen=True)
class ProgressEvent:
    """How far the job is: `progress` 0–100 (never decreasing; 100 only at completion).

    `seq` is set on messages from the job's durable log (`event` names the logged event);
    live-only estimates have none.
    """

    job_id: str
    progress: int
    phase: str | None
    seq: int | None
    event: str | None
    queue_position: int | None
    message: str | None
    raw: dict[str, Any] = field(repr=False)
    type: str = "progress"


@dataclass(frozen=True)
class PreviewEvent:
    """A preview frame of the output (asked for with `preview=True`)."""

    job_id: str
    frame_url: str
    seq: int | None
    raw: dict[str, Any] = field(repr=False)
    type: str = "preview"


@dataclass(frozen=True)
class CompleteEvent:
    """The job succeeded: its `result`, and the media URLs the server picked out of it."""

    job_id: str
    seq: int | None
    status: str
    result: Result
    video_url: str | None
    image_urls: list[str] | None
    audio_url: str | None
    raw: dict[str, Any] = field(repr=False)
    type: str = "complete"


@dataclass(frozen=True)
class ErrorEvent:
    """A job that ended failed or canceled (`job_id` set; `code` "canceled" for the
    latter), or, without `job_id`, a message the WebSocket refused."""

    job_id: str | None
    seq: int | None
    code: str
    message: str
    raw: dict[str, Any] = field(repr=False)
    type: str = "error"


@dataclass(frozen=True)
class UnknownEvent:
    """Any other message (`subscribed`, `pong`, …, or a type newer than this client)."""

    type: str
    job_id: str | None
    seq: int | None
    raw: dict[str, Any] = field(repr=False)


Event = AcceptedEvent | ProgressEvent | PreviewEvent | CompleteEvent | ErrorEvent | UnknownEvent


def _opt_int(value: Any) -> int | None:
    try:
        return None if value is None or isinstance(value, bool) else int(value)
    except (TypeError, ValueError):
        return None


def _opt_str(value: Any) -> str | None:
    return None if value is None else str(value)


def parse_message(data: dict[str, Any]) -> Event:
    """The typed event for one decoded message."""
    kind = str(data.get("type", ""))
    job_id = _opt_str(data.get("job_id"))
    seq = _opt_int(data.get("seq"))
    if kind == "accepted" and job_id is not None:
        return AcceptedEvent(
            job_id=job_id,
            status=str(data.get("status", "")),
            cache_hit=bool(data.get("cache_hit", False)),
            raw=data,
        )
    if kind == "progress" and job_id is not None:
        return ProgressEvent(
            job_id=job_id,
            progress=_opt_int(data.get("progress")) or 0,
            phase=_opt_str(data.get("phase")),
            seq=seq,
            event=_opt_str(data.get("event")),
            queue_position=_opt_int(data.get("queue_position")),
            message=_opt_str(data.get("message")),
            raw=data,
        )
    if kind == "preview" and job_id is not None:
        return PreviewEvent(
            job_id=job_id, frame_url=str(data.get("frame_url", "")), seq=seq, raw=data
        )
    if kind == "complete" and job_id is not None:
        urls = data.get("image_urls")
        return CompleteEvent(
            job_id=job_id,
            seq=seq,
            status=str(data.get("status", "succeeded")),
            result=Result(data.get("result") or {}, job_id=job_id),
            video_url=_opt_str(data.get("video_url")),
            image_urls=[str(u) for u in urls] if isinstance(urls, list) else None,
            audio_url=_opt_str(data.get("audio_url")),
            raw=data,
        )
    if kind == "error":
        return ErrorEvent(
            job_id=job_id,
            seq=seq,
            code=str(data.get("code", "error")),
            message=str(data.get("message", "")),
            raw=data,
        )
    return UnknownEvent(type=kind, job_id=job_id, seq=seq, raw=data)


def ends_job(event: Event) -> bool:
    """Whether `event` is the last message of its job's stream."""
    return isinstance(event, CompleteEvent) or (
        isinstance(event, ErrorEvent) and event.job_id is not None
    )
