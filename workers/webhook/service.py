"""What callers ask of a job's webhooks beyond reading them: redelivery."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from workers.db.base import utcnow
from workers.job import messages
from workers.webhook import deliveries
from workers.webhook.reader import owned_job
from workers.webhook.schemas import Redelivery


def redeliver(session: Session, job_id: uuid.UUID, *, owner: str | None) -> Redelivery:
    """Make the job's undelivered events due now (same ids); their messages go after the
    commit. `NotFound` for an unknown or another owner's job."""
    owned_job(session, job_id, owner)
    done = deliveries.redeliver(session, job_id, now=utcnow())
    for row in done.resent:
        messages.webhook_after_commit(session, row.id)
    return Redelivery(
        redelivered=[r.webhook_id for r in done.resent],
        already_delivered=[r.webhook_id for r in done.already_delivered],
        in_progress=[r.webhook_id for r in done.in_progress],
    )
