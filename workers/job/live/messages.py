"""What a streaming client receives: the seed's message types, made from the durable log
and from live progress estimates.

Every durable event becomes exactly one message carrying its `seq`, so a client that
resumes `after` a sequence number sees each event once. The message types are those of the
seed's WebSocket: `progress`, `preview`, `complete` and `error`.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from workers.job.live import progress
from workers.job.models import Phase

Message = dict[str, Any]

TERMINAL_EVENTS = frozenset({"succeeded", "failed", "canceled"})


@dataclass(frozen=True)
class Durable:
    """An event of the job's log."""

    job_id: uuid.UUID
    seq: int
    type: str
    payload: dict[str, Any]

    @property
    def ends_job(self) -> bool:
        return self.type in TERMINAL_EVENTS


@dataclass(frozen=True)
class Live:
    """A progress estimate or provider signal, never written to the database."""

    job_id: uuid.UUID
    phase: str
    progress: int
    extra: dict[str, Any]


def from_durable(event: Durable) -> Message:
    """The one message for a log event; a `progress` of None means "unchanged"."""
    base: Message = {"job_id": str(event.job_id), "seq": event.seq, "event": event.type}
    payload = event.payload
    if event.type == "succeeded":
        return {"type": "complete", **base, "status": "succeeded", **media_urls(payload)}
    if event.type in ("failed", "canceled"):
        code = payload.get("code") or event.type
        message = payload.get("message") or _ended_message(event.type, payload)
        return {"type": "error", **base, "code": code, "message": message}
    if event.type == "preview":
        return {"type": "preview", **base, "frame_url": payload["frame_url"]}
    phase, value, extra = _progress_of(event.type, payload)
    return {"type": "progress", **base, "progress": value, "phase": phase, **extra}


def from_live(item: Live) -> Message:
    return {
        "type": "progress",
        "job_id": str(item.job_id),
        "progress": item.progress,
        "phase": item.phase,
        **item.extra,
    }


def media_urls(payload: dict[str, Any]) -> dict[str, Any]:
    """The seed's `video_url` / `image_urls` / `audio_url`, and the whole result."""
    result: dict[str, Any] = payload.get("result") or {}
    urls: dict[str, Any] = {"result": result}
    if "video" in result:
        urls["video_url"] = result["video"]["url"]
    if "images" in result:
        urls["image_urls"] = [image["url"] for image in result["images"]]
    if "audio" in result:
        urls["audio_url"] = result["audio"]["url"]
    return urls


def _ended_message(kind: str, payload: dict[str, Any]) -> str:
    if kind == "canceled":
        return "the job was canceled"
    if "joined_job_id" in payload:
        return f"the identical job {payload['joined_job_id']} it was waiting for failed"
    return "the job failed"


def _progress_of(kind: str, payload: dict[str, Any]) -> tuple[str | None, int | None, Message]:
    """(phase, value, extra fields) for a log event that is neither an end nor a preview;
    None leaves the stream's current phase or value as it is."""
    if kind == "queued":
        return Phase.QUEUE_WAIT, 0, {}
    if kind == "running":
        return Phase.MODEL_LOADING, progress.overall(Phase.MODEL_LOADING), {}
    if kind == "phase":
        following = progress.after(str(payload.get("name")))
        return following, progress.overall(following), {}
    if kind in ("retrying", "requeued"):
        return Phase.QUEUE_WAIT, None, {"message": f"retrying: {payload.get('reason')}"}
    if kind == "provider_status":
        return _provider_progress(payload)
    if kind == "preview_failed":
        return None, None, {"message": f"no preview: {payload.get('message')}"}
    return None, None, {}


def _provider_progress(remote: dict[str, Any]) -> tuple[str | None, int | None, Message]:
    state = remote.get("state")
    extra: Message = {}
    if remote.get("queue_position") is not None:
        extra["queue_position"] = remote["queue_position"]
    if state == "queued":
        return Phase.MODEL_LOADING, progress.overall(Phase.MODEL_LOADING), extra
    if state == "running":
        fraction = remote.get("progress")
        if fraction is None:
            fraction = progress.percent_in_logs(list(remote.get("logs") or []))
        return Phase.GENERATION, progress.overall(Phase.GENERATION, fraction or 0.0), extra
    if state == "succeeded":
        return Phase.ENCODING, progress.overall(Phase.ENCODING), extra
    return None, None, extra


class Gate:
    """One subscriber's view of one job: progress never goes back, only the end reaches
    100, and a `progress` of None repeats the current value.

    A live estimate that arrives after the log moved to a later phase is stale: dropped.
    """

    def __init__(self) -> None:
        self.progress = 0
        self.phase: str = Phase.QUEUE_WAIT

    def pass_durable(self, message: Message) -> Message:
        if message["type"] != "progress":
            return message
        return self._apply(message)

    def pass_live(self, message: Message) -> Message | None:
        if _rank(message["phase"]) < _rank(self.phase) or message["progress"] <= self.progress:
            return None
        return self._apply(message)

    def _apply(self, message: Message) -> Message:
        value = message.get("progress")
        if value is not None:
            self.progress = max(self.progress, min(int(value), progress.LAST_BEFORE_DONE))
        if message.get("phase") is not None:
            self.phase = message["phase"]
        return {**message, "progress": self.progress, "phase": self.phase}

    def finished(self, job_id: uuid.UUID) -> Message:
        """The 100 that precedes `complete`."""
        self.progress, self.phase = 100, progress.DONE
        return {"type": "progress", "job_id": str(job_id), "progress": 100, "phase": progress.DONE}


def _rank(phase: str) -> int:
    return progress.ORDER.index(phase) if phase in progress.ORDER else len(progress.ORDER)
