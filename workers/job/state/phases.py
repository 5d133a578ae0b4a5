"""The one writer of phase rows: where every second of a job went.

Phases of an attempt are back to back: each starts where the previous one ended
(`phase_mark_at`), whichever process records it, so they add up to the attempt's wall time.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.job.models import Job, JobPhase, Phase
from workers.job.state.events import append_event


def record(
    session: Session, job: Job, phase: Phase, started_at: datetime, duration_ms: float
) -> None:
    """Record a finished phase of the job's current attempt (the caller holds the row)."""
    session.add(
        JobPhase(
            job_id=job.id,
            attempt=job.attempts,
            name=phase,
            started_at=started_at,
            duration_ms=duration_ms,
        )
    )
    job.phase_mark_at = started_at + timedelta(milliseconds=duration_ms)
    append_event(session, job, "phase", {"name": phase, "duration_ms": round(duration_ms, 3)})


def record_until(session: Session, job: Job, phase: Phase, end: datetime) -> None:
    """Record `phase` as running from where the previous phase ended until `end`."""
    start = job.phase_mark_at or job.started_at or end
    record(session, job, phase, start, max(0.0, (end - start).total_seconds() * 1000))


def is_recorded(session: Session, job: Job, phase: Phase) -> bool:
    """Whether the current attempt already recorded `phase` (a worker died after it)."""
    return (
        session.scalar(
            select(JobPhase.id).where(
                JobPhase.job_id == job.id, JobPhase.attempt == job.attempts, JobPhase.name == phase
            )
        )
        is not None
    )
