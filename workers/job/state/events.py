"""The durable per-job event log: every state change and phase is appended here in order."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from workers.db.base import utcnow
from workers.job.live import publish
from workers.job.models import Job, JobEvent
from workers.webhook import enqueue as webhooks


def append_event(session: Session, job: Job, type_: str, payload: dict[str, Any]) -> JobEvent:
    """Append an event; the caller holds the job row (created it, or locked it for update).

    Live subscribers get it once the transaction commits (`live.publish`); a job with a
    webhook for this kind of event gets its delivery row now (`webhook.enqueue`).
    """
    job.last_event_seq += 1
    event = JobEvent(
        job_id=job.id, seq=job.last_event_seq, type=type_, payload=payload, created_at=utcnow()
    )
    session.add(event)
    publish.event_after_commit(session, job.id, event.seq, type_, payload)
    webhooks.on_event(session, job, event.seq, type_, payload)
    return event
