"""Preview first: a video job's preview is an image job of its own, linked to its parent.

When the preview ends, the parent's log gets a `preview` event with the image's URL (or a
`preview_failed` one): that is how it reaches the parent's subscribers. A failed preview
never fails the video, and a parent that already ended hears nothing more.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from workers.job import repository
from workers.job.models import Job
from workers.job.state.events import append_event
from workers.job.status import JobStatus


def announce(session: Session, preview: Job) -> None:
    """Tell the parent of `preview` (which just ended) what it produced."""
    if preview.parent_job_id is None:
        return
    parent = repository.get_for_update(session, preview.parent_job_id)
    if parent is None or parent.job_status.is_terminal:
        return
    if preview.job_status is JobStatus.SUCCEEDED and preview.result:
        image = preview.result["images"][0]
        append_event(
            session,
            parent,
            "preview",
            {"frame_url": image["url"], "job_id": str(preview.id), "source": "preview_job"},
        )
        return
    append_event(
        session,
        parent,
        "preview_failed",
        {"job_id": str(preview.id), "message": preview.error_message or preview.status},
    )
