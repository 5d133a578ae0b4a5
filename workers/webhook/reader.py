"""A job's or a batch's delivery log, as `GET /v1/jobs/{id}/webhooks` and
`GET /v1/batches/{id}/webhooks` show it."""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.batch.reader import owned_batch
from workers.errors import NotFound
from workers.job import repository
from workers.job.models import Job
from workers.webhook import deliveries
from workers.webhook.models import WebhookAttempt, WebhookDelivery
from workers.webhook.schemas import AttemptRead, BatchWebhooks, DeliveryRead, JobWebhooks


def owned_job(session: Session, job_id: uuid.UUID, owner: str | None) -> Job:
    """The job, if `owner` may see it; else `NotFound`, as for an unknown id."""
    job = repository.get(session, job_id)
    if job is None or (owner is not None and job.owner != owner):
        raise NotFound(f"no job with id {job_id}")
    return job


def job_webhooks(session: Session, job_id: uuid.UUID, *, owner: str | None) -> JobWebhooks:
    job = owned_job(session, job_id, owner)
    return JobWebhooks(
        job_id=job.id,
        webhook_url=job.webhook_url,
        webhook_events=job.webhook_events,
        deliveries=_log(session, job_id=job.id),
    )


def batch_webhooks(session: Session, batch_id: uuid.UUID, *, owner: str) -> BatchWebhooks:
    batch = owned_batch(session, batch_id, owner)
    return BatchWebhooks(
        batch_id=batch.id,
        webhook_url=batch.webhook_url,
        deliveries=_log(session, batch_id=batch.id),
    )


def _log(
    session: Session, *, job_id: uuid.UUID | None = None, batch_id: uuid.UUID | None = None
) -> list[DeliveryRead]:
    """The job's or batch's deliveries, in the order of their events, each with its attempts."""
    rows = list(
        session.scalars(
            select(WebhookDelivery)
            .where(deliveries.of(job_id=job_id, batch_id=batch_id))
            .order_by(WebhookDelivery.event_seq, WebhookDelivery.created_at)
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
    return [
        DeliveryRead(
            webhook_id=r.webhook_id,
            event=r.event,
            type=r.type,
            url=r.url,
            state=r.state,
            attempts=r.attempts,
            next_attempt_at=r.next_attempt_at,
            created_at=r.created_at,
            delivered_at=r.delivered_at,
            log=attempts[r.id],
        )
        for r in rows
    ]
