"""What callers ask of a job's or a batch's webhooks beyond reading them: redelivery."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from workers.batch.reader import owned_batch
from workers.db.base import utcnow
from workers.job import messages
from workers.webhook import deliveries
from workers.webhook.reader import owned_job
from workers.webhook.schemas import Redelivery


def redeliver(session: Session, job_id: uuid.UUID, *, owner: str | None) -> Redelivery:
    """Make the job's undelivered events due now (same ids); their messages go after the
    commit. `NotFound` for an unknown or another owner's job."""
    owned_job(session, job_id, owner)
    return _redeliver(session, deliveries.redeliver(session, job_id=job_id, now=utcnow()))


def redeliver_batch(session: Session, batch_id: uuid.UUID, *, owner: str) -> Redelivery:
    """The same for a batch's event (`batch.completed`). `NotFound` for an unknown or
    another owner's batch."""
    owned_batch(session, batch_id, owner)
    return _redeliver(session, deliveries.redeliver(session, batch_id=batch_id, now=utcnow()))


def _redeliver(session: Session, done: deliveries.Redelivered) -> Redelivery:
    for row in done.resent:
        messages.webhook_after_commit(session, row.id)
    return Redelivery(
        redelivered=[r.webhook_id for r in done.resent],
        already_delivered=[r.webhook_id for r in done.already_delivered],
        in_progress=[r.webhook_id for r in done.in_progress],
    )
