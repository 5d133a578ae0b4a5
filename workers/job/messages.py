"""Every Celery message about a job is made here, and sent only after the transaction that
called for it commits (`workers.db.outbox`): a worker always finds the row a message names,
and a rolled-back transaction sends nothing.

This is where the promise that an accepted job is never dropped lives: a `job.generate`
that cannot be sent leaves its job queued and marked unsent (`enqueued_at` cleared), and
the sweeper sends it again. A message sent and then lost (a Redis without persistence
restarted, a message consumed without a claim) leaves no trace, so every send also sets
the job's `resend_at`: still queued then, the job is presumed to have lost its message and
the sweeper sends another. Each re-send waits as long again as the job has already waited
(`next_resend_at`), so a job waiting T seconds gets at most 1 + log2(1 + T / grace)
duplicates, whatever the backlog; whichever copy comes first starts the job, and the
others do nothing (`attempt.start` refuses a job already taken). A lost `job.finalize`
needs no mark: the sweeper finds every job whose provider finished without a worker
taking it. A lost `job.cancel_remote` is logged (the provider's own deadline ends the
request). A `webhook.deliver` that cannot be sent leaves its delivery marked unsent, and
beat's webhook sweep sends it.
"""

from __future__ import annotations

import logging
import uuid
from datetime import datetime, timedelta
from functools import partial

from sqlalchemy.orm import Session

from workers.celery_app import app
from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.db.outbox import Action, after_commit
from workers.job import repository
from workers.job.models import Job, Source
from workers.job.status import JobStatus
from workers.queues import Queue, generation_queue
from workers.settings import get_settings
from workers.webhook import deliveries

log = logging.getLogger(__name__)


def celery_priority(priority: int) -> int:
    """Our 9 is most urgent; kombu's Redis transport serves 0 first."""
    return 9 - priority


def generate_after_commit(session: Session, job_id: uuid.UUID, priority: int) -> None:
    """Send `job.generate` once the job's row is committed, to the queue its model and
    source call for; mark it unsent if that fails."""
    job = note_sent(session, job_id)
    queue = (
        generation_queue(provider=job.provider, prewarm=job.source == Source.PREWARM)
        if job is not None
        else Queue.JOBS
    )
    send = partial(
        app.send_task,
        "job.generate",
        args=[str(job_id)],
        queue=queue,
        priority=celery_priority(priority),
    )
    after_commit(
        session,
        Action(
            run=send,
            describe=f"job.generate job_id={job_id} (the sweeper will re-send it)",
            on_failure=partial(_mark_unsent, job_id),
        ),
    )


def finalize_after_commit(session: Session, job_id: uuid.UUID) -> None:
    send = partial(
        app.send_task, "job.finalize", args=[str(job_id)], queue=Queue.HOSTED, priority=0
    )
    after_commit(session, Action(run=send, describe=f"job.finalize job_id={job_id}"))


def cancel_remote_after_commit(session: Session, job_id: uuid.UUID) -> None:
    send = partial(app.send_task, "job.cancel_remote", args=[str(job_id)], queue=Queue.MAINTENANCE)
    after_commit(session, Action(run=send, describe=f"job.cancel_remote job_id={job_id}"))


def note_sent(session: Session, job_id: uuid.UUID, *, countdown_s: float = 0.0) -> Job | None:
    """A `job.generate` for this job goes out now, due in `countdown_s` (a task's own retry
    says so too): if the job is still unclaimed well after that, the message is lost."""
    job = session.get(Job, job_id)
    if job is not None:
        job.resend_at = next_resend_at(job, utcnow(), countdown_s)
    return job


def next_resend_at(job: Job, now: datetime, countdown_s: float = 0.0) -> datetime:
    """When a message sent now, due in `countdown_s`, is presumed lost: after the grace, or
    after as long again as the job has waited so far, whichever is later. The waits double,
    so the duplicates of one job grow with the log of its wait, never with the backlog."""
    grace = get_settings().lost_message_grace_s
    if job.job_status is JobStatus.RUNNING and job.lease_expires_at is not None:
        waiting_since = job.lease_expires_at  # a lost worker's job waits from its expiry
    else:
        waiting_since = job.enqueued_at or job.created_at or now
    waited = max(0.0, (now - waiting_since).total_seconds())
    return now + timedelta(seconds=countdown_s + max(grace, waited))


def webhook_after_commit(
    session: Session, delivery_id: uuid.UUID, countdown_s: float | None = None
) -> None:
    """Send `webhook.deliver` on its own queue once the delivery's row is committed (with a
    countdown for a retry due soon: never more than 60 s); mark it unsent if that fails."""
    send = partial(
        app.send_task,
        "webhook.deliver",
        args=[str(delivery_id)],
        queue=Queue.WEBHOOKS,
        countdown=countdown_s,
    )
    after_commit(
        session,
        Action(
            run=send,
            describe=f"webhook.deliver delivery_id={delivery_id} (the webhook sweep will send it)",
            on_failure=partial(_mark_webhook_unsent, delivery_id),
        ),
    )


def _mark_webhook_unsent(delivery_id: uuid.UUID) -> None:
    with session_scope() as session:
        deliveries.mark_unsent(session, delivery_id)


def mark_sent(session: Session, job_id: uuid.UUID) -> None:
    """A queued job's message is being sent again (the sweeper): its queue wait restarts."""
    job = repository.get_for_update(session, job_id)
    if job is not None and job.job_status is JobStatus.QUEUED and job.enqueued_at is None:
        job.enqueued_at = utcnow()


def mark_unsent(session: Session, job_id: uuid.UUID) -> None:
    """The message could not be sent: leave the queued job for the sweeper to send."""
    job = repository.get_for_update(session, job_id)
    if job is not None and job.job_status is JobStatus.QUEUED:
        job.enqueued_at = None


def _mark_unsent(job_id: uuid.UUID) -> None:
    with session_scope() as session:
        mark_unsent(session, job_id)
