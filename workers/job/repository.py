"""Queries on job rows. Repositories read and flush; they never commit."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from workers.job.models import Job, JobPhase
from workers.job.status import JobStatus, SubmitState


def get(session: Session, job_id: uuid.UUID) -> Job | None:
    return session.get(Job, job_id)


def get_for_update(session: Session, job_id: uuid.UUID) -> Job | None:
    """The job row, locked until the transaction ends (a no-op lock on SQLite)."""
    return session.execute(
        select(Job).where(Job.id == job_id).with_for_update()
    ).scalar_one_or_none()


def lock_many(session: Session, job_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Job]:
    """The jobs with these ids, locked until the transaction ends, by id.

    Locked in id order, so two transactions that each lock several jobs cannot deadlock.
    """
    jobs = session.scalars(
        select(Job).where(Job.id.in_(job_ids)).order_by(Job.id).with_for_update()
    ).all()
    return {job.id: job for job in jobs}


def by_idempotency_key(session: Session, owner: str, key: str) -> Job | None:
    return session.execute(
        select(Job).where(Job.owner == owner, Job.idempotency_key == key)
    ).scalar_one_or_none()


def phases_of(session: Session, job_id: uuid.UUID) -> Sequence[JobPhase]:
    return (
        session.execute(select(JobPhase).where(JobPhase.job_id == job_id).order_by(JobPhase.id))
        .scalars()
        .all()
    )


def needing_finalize(session: Session, *, done_before: datetime, limit: int) -> list[uuid.UUID]:
    """Jobs the provider finished that no worker is finalizing (a lost finalize message)."""
    rows = session.scalars(
        select(Job.id)
        .where(
            Job.status == JobStatus.RUNNING,
            Job.submit_state == SubmitState.COMPLETED,
            Job.phase_mark_at < done_before,
            or_(Job.lease_expires_at.is_(None), Job.lease_expires_at < done_before),
        )
        .limit(limit)
    )
    return list(rows)


def needing_dispatch(
    session: Session, *, unsent_before: datetime, now: datetime, limit: int
) -> list[tuple[uuid.UUID, int]]:
    """(id, priority) of jobs whose task message is missing: never sent (after a
    grace), sent but presumed lost (still queued past `resend_at`), or whose worker's lease
    ran out (and not re-sent since). Joined jobs wait for their leader and need none."""
    queued = (Job.status == JobStatus.QUEUED) & Job.joined_job_id.is_(None)
    rows = session.execute(
        select(Job.id, Job.priority)
        .where(
            or_(
                queued & Job.enqueued_at.is_(None) & (Job.created_at < unsent_before),
                queued & Job.enqueued_at.is_not(None) & (Job.resend_at < now),
                (Job.status == JobStatus.RUNNING)
                & (Job.lease_expires_at < now)
                & or_(Job.resend_at.is_(None), Job.resend_at < now)
                # a finished provider's job is finalize's to take over, not a new attempt's
                & Job.submit_state.is_distinct_from(SubmitState.COMPLETED),
            )
        )
        .order_by(Job.created_at)
        .limit(limit)
    )
    return [(job_id, priority) for job_id, priority in rows]


def in_flight(session: Session, provider: str) -> int:
    """Jobs of `provider` submitted (or being submitted) and not yet finished."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Job)
            .where(
                Job.provider == provider,
                Job.status == JobStatus.RUNNING,
                Job.submit_state.in_((SubmitState.INTENT, SubmitState.SUBMITTED)),
            )
        )
        or 0
    )


def previews_in_flight(session: Session, parent_id: uuid.UUID) -> list[uuid.UUID]:
    """The preview jobs of `parent_id` still queued or running."""
    return list(
        session.scalars(
            select(Job.id).where(
                Job.parent_job_id == parent_id,
                Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)),
            )
        )
    )


def oldest_in_flight(session: Session, owner: str) -> tuple[str, datetime] | None:
    """The model and creation time of the owner's oldest job queued or running."""
    row = session.execute(
        select(Job.model, Job.created_at)
        .where(Job.owner == owner, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))
        .order_by(Job.created_at)
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def in_flight_of(session: Session, owner: str) -> int:
    """The owner's jobs queued or running (joined jobs included: they are waiting too)."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.owner == owner, Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING)))
        )
        or 0
    )
