"""A job's delivery log, as `GET /v1/jobs/{id}/webhooks` shows it."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.errors import NotFound
from workers.job import repository
from workers.job.models import Job
from workers.webhook.events import WebhookEvent
from workers.webhook.models import WebhookAttempt, WebhookDelivery
from workers.webhook.schemas import AttemptRead, DeliveryRead, JobWebhooks


def owned_job(session: Session, job_id: uuid.UUID, owner: str | None) -> Job:
    """The job, if `owner` may see it; else `NotFound`, as for an unknown id."""
    job = repository.get(session, job_id)
    if job is None or (owner is not None and job.owner != owner):
        raise NotFound(f"no job with id {job_id}")
    return job


def job_webhooks(session: Session, job_id: uuid.UUID, *, owner: str | None) -> JobWebhooks:
    job = owned_job(session, job_id, owner)
    rows = list(
        session.scalars(
            select(WebhookDelivery)
            .where(WebhookDelivery.job_id == job_id)
            .order_by(WebhookDelivery.event_seq)
        )
    )
    attempts: dict[uuid.UUID, list[AttemptRead]] = defaultdict(list)
    if rows:
        for a in session.scalars(
            select(WebhookAttempt)
            .where(WebhookAttempt.delivery_id.in_([r.id for r in rows]))
            .order_by(WebhookAttempt.delivery_id, WebhookAttempt.number)
        ):
            attempts[a.delivery_id].append(
                AttemptRead(
                    attempt=a.number,
                    at=a.started_at,
                    status_code=a.status_code,
                    latency_ms=a.latency_ms,
                    error=a.error,
                )
            )
    return JobWebhooks(
        job_id=job.id,
        webhook_url=job.webhook_url,
        webhook_events=job.webhook_events,
        deliveries=[
            DeliveryRead(
                webhook_id=r.webhook_id,
                event=r.event,
                type=WebhookEvent(r.event).type,
                url=r.url,
                state=r.state,
                attempts=r.attempts,
                next_attempt_at=r.next_attempt_at,
                created_at=r.created_at,
                delivered_at=r.delivered_at,
                log=attempts[r.id],
            )
            for r in rows
        ],
    )
