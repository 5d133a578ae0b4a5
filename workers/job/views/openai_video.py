"""Our video jobs as OpenAI's video objects (`GET /v1/videos/{id}`, the list, the content).

Every video job of an owner is one of its videos, however it was submitted (`/v1/videos`,
`/v1/jobs`, the CLI, the WebSocket). Statuses map `queued` → `queued`, `running` →
`in_progress`, `succeeded` → `completed`, and `failed` and `canceled` → `failed` (with the
error; OpenAI has no canceled state). Another owner's job, an image job or an id that is no
job at all is the same 404.
"""

from __future__ import annotations

import mimetypes
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from workers.catalog.registry import get_model
from workers.db.base import utcnow
from workers.errors import Conflict, InvalidInput, NotFound
from workers.job import repository
from workers.job.live import estimate, progress
from workers.job.models import Job, Phase
from workers.job.status import JobStatus
from workers.media.formats import MediaKind
from workers.storage import get_storage

Variant = Literal["video", "thumbnail", "spritesheet"]
Order = Literal["asc", "desc"]

_STATUS = {
    JobStatus.QUEUED: "queued",
    JobStatus.RUNNING: "in_progress",
    JobStatus.SUCCEEDED: "completed",
    JobStatus.FAILED: "failed",
    JobStatus.CANCELED: "failed",
}


class NotReady(Conflict):
    """The video's content was asked for before the video completed."""

    code = "video_not_ready"


def get_video(session: Session, video_id: str, *, owner: str | None) -> Job:
    """The owner's video job `video_id`; `NotFound` for anything else."""
    missing = NotFound(f"no video with id {video_id!r}")
    try:
        job_id = uuid.UUID(video_id)
    except ValueError:
        raise missing from None
    job = repository.get(session, job_id)
    if job is None or (owner is not None and job.owner != owner):
        raise missing
    if job.kind != MediaKind.VIDEO:
        raise NotFound(f"{video_id} is an {job.kind} job, not a video: GET /v1/jobs/{video_id}")
    return job


def video_object(session: Session, job: Job) -> dict[str, Any]:
    status = job.job_status
    video: dict[str, Any] = (job.result or {}).get("video") or {}
    return {
        "id": str(job.id),
        "object": "video",
        "model": job.model,
        "status": _STATUS[status],
        "progress": progress_of(session, job),
        "created_at": _unix(job.created_at),
        "completed_at": _unix(job.finished_at) if status.is_terminal else None,
        # Stored files are kept until an operator removes them: nothing expires.
        "expires_at": None,
        "prompt": job.input.get("prompt"),
        "seconds": _seconds(job.input.get("duration") or video.get("duration")),
        "size": _size(job.input, video),
        "error": _error(job),
        "remixed_from_video_id": None,
    }


def _unix(moment: datetime | None) -> int | None:
    return None if moment is None else int(moment.timestamp())


def _seconds(duration: Any) -> str | None:
    if not isinstance(duration, int | float):
        return None
    return f"{duration:g}"


def _size(input_: dict[str, Any], video: dict[str, Any]) -> str | None:
    width = video.get("width") or input_.get("width")
    height = video.get("height") or input_.get("height")
    return f"{width}x{height}" if width and height else None


def _error(job: Job) -> dict[str, str] | None:
    if job.job_status is JobStatus.CANCELED:
        return {"code": "canceled", "message": job.error_message or "the job was canceled"}
    if job.job_status is JobStatus.FAILED:
        return {"code": job.error_code or "failed", "message": job.error_message or "failed"}
    return None


def progress_of(session: Session, job: Job) -> int:
    """0–100 from the row: the band of the phase under way (the one after the attempt's last
    recorded phase) and how far into it the provider says, or similar jobs suggest, it is.

    The same bands as the live stream's, without its published estimates (they never reach
    the database); 100 only for a completed video.
    """
    status = job.job_status
    if status is JobStatus.SUCCEEDED:
        return 100
    if status is JobStatus.QUEUED:
        return 0
    phases = [p.name for p in repository.phases_of(session, job.id) if p.attempt == job.attempts]
    current = progress.after(phases[-1]) if phases else Phase.MODEL_LOADING
    if status is not JobStatus.RUNNING or current == progress.DONE:
        return progress.overall(current)
    remote = job.remote or {}
    fraction = remote.get("progress") if current == Phase.GENERATION else None
    if not isinstance(fraction, int | float):
        fraction = _estimated(session, job, Phase(current))
    return progress.overall(current, float(fraction))


def _estimated(session: Session, job: Job, phase: Phase) -> float:
    if job.phase_mark_at is None:
        return 0.0
    try:
        spec = get_model(job.model)
    except InvalidInput:  # a model since removed from the catalog
        return 0.0
    expected = estimate.expected_seconds(session, spec, job.input, phase)
    elapsed = (utcnow() - job.phase_mark_at).total_seconds()
    return progress.estimated_fraction(elapsed, expected)


def poll_after_ms(job: Job) -> int:
    """A polite polling interval for an unfinished video (OpenAI's `openai-poll-after-ms`,
    which the SDK's `poll` honours): a tenth of the model's typical latency, 0.25–5 s."""
    try:
        typical_s = get_model(job.model).typical_latency_s
    except InvalidInput:
        typical_s = 10.0
    return int(min(5000, max(250, typical_s * 100)))


def list_videos(
    session: Session, *, owner: str | None, after: str | None, limit: int, order: Order
) -> dict[str, Any]:
    """One page of the owner's videos, newest first (or oldest with `asc`), after the video
    `after` (the previous page's `last_id`)."""
    query = select(Job).where(Job.kind == MediaKind.VIDEO)
    if owner is not None:
        query = query.where(Job.owner == owner)
    newest_first = order == "desc"
    if after is not None:
        try:
            cursor = get_video(session, after, owner=owner)
        except NotFound:
            msg = f"no video with id {after!r} to list after"
            raise InvalidInput.at("after", msg=msg) from None
        if newest_first:
            beyond = or_(
                Job.created_at < cursor.created_at,
                and_(Job.created_at == cursor.created_at, Job.id < cursor.id),
            )
        else:
            beyond = or_(
                Job.created_at > cursor.created_at,
                and_(Job.created_at == cursor.created_at, Job.id > cursor.id),
            )
        query = query.where(beyond)
    if newest_first:
        query = query.order_by(Job.created_at.desc(), Job.id.desc())
    else:
        query = query.order_by(Job.created_at.asc(), Job.id.asc())
    rows = list(session.scalars(query.limit(limit + 1)))
    page = rows[:limit]
    data = [video_object(session, job) for job in page]
    return {
        "object": "list",
        "data": data,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
        "has_more": len(rows) > limit,
    }


def content_file(job: Job, variant: str) -> tuple[Path | bytes, str]:
    """The stored file of a completed video's `variant` (a path on this host, or the bytes
    from object storage) and its content type.

    `NotReady` before the video completed (or when it failed); `NotFound` for a variant
    the result does not have (a model without a poster has no thumbnail; nothing here makes
    spritesheets).
    """
    if variant not in ("video", "thumbnail", "spritesheet"):
        raise InvalidInput.at(
            "variant", msg=f'must be "video", "thumbnail" or "spritesheet"; got {variant!r}'
        )
    status = job.job_status
    if status.is_terminal and status is not JobStatus.SUCCEEDED:
        reason = f": {job.error_message}" if job.error_message else ""
        raise NotReady(f"video {job.id} failed{reason}; it has no content")
    if status is not JobStatus.SUCCEEDED:
        raise NotReady(
            f"video {job.id} is {_STATUS[status]}: its content is there once its status is "
            "completed"
        )
    video: dict[str, Any] = (job.result or {}).get("video") or {}
    if variant == "spritesheet":
        raise NotFound(f"video {job.id} has no spritesheet: this server does not make them")
    if variant == "thumbnail":
        url = video.get("poster_url")
        if not isinstance(url, str):
            raise NotFound(
                f"video {job.id} has no thumbnail: its model ({job.model}) made no poster frame"
            )
        content_type = mimetypes.guess_type(url)[0] or "image/png"
    else:
        url = video.get("url")
        content_type = str(video.get("content_type") or "video/mp4")
    storage = get_storage()
    found = (storage.local_path(url) or storage.read(url)) if url else None
    if found is None:
        raise NotFound(f"the {variant} of video {job.id} is no longer stored here")
    return found, content_type
