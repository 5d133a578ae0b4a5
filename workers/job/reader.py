"""The public view of a job: what `GET /v1/jobs/{id}` and `abstrakt-queue status` show."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.errors import NotFound
from workers.job import repository
from workers.job.live.messages import Durable
from workers.job.models import Job, JobEvent, JobPhase, Phase
from workers.job.schemas import CostRead, JobError, JobRead, PhaseRead, ProviderRead


def read_job(session: Session, job_id: uuid.UUID, *, owner: str | None = None) -> JobRead:
    job = repository.get(session, job_id)
    if job is None or (owner is not None and job.owner != owner):
        raise NotFound(f"no job with id {job_id}")
    phases = repository.phases_of(session, job_id)
    return JobRead(
        id=job.id,
        model=job.model,
        kind=job.kind,
        status=job.status,
        input=job.input,
        priority=job.priority,
        idempotency_key=job.idempotency_key,
        attempts=job.attempts,
        result=job.result,
        error=(
            JobError(code=job.error_code, message=job.error_message or "")
            if job.error_code
            else None
        ),
        provider=ProviderRead(
            name=job.provider,
            request_id=job.provider_request_id,
            submit_state=job.submit_state,
            status=job.remote,
        ),
        phases=[
            PhaseRead(
                name=p.name, attempt=p.attempt, started_at=p.started_at, duration_ms=p.duration_ms
            )
            for p in phases
        ],
        created_at=job.created_at,
        enqueued_at=job.enqueued_at,
        started_at=job.started_at,
        finished_at=job.finished_at,
        source=job.source,
        cache_hit=job.cache_hit,
        joined_job_id=job.joined_job_id,
        parent_job_id=job.parent_job_id,
        cost=CostRead(
            estimated_usd=_usd(job.estimated_cost_micros),
            actual_usd=_usd(job.actual_cost_micros),
            basis=job.cost_basis,
        ),
        auto_choice=job.auto_choice,
        overhead_ms=overhead_ms(job, phases),
    )


# The model's own time; everything else in a job's wall time is ours.
MODEL_PHASES = frozenset({Phase.MODEL_LOADING, Phase.GENERATION})


def overhead_ms(job: Job, phases: Sequence[JobPhase]) -> float | None:
    """Wall time minus the model's phases (see `JobRead.overhead_ms`); None until it ends."""
    if job.finished_at is None:
        return None
    wall = (job.finished_at - job.created_at).total_seconds() * 1000
    model = sum(p.duration_ms for p in phases if p.name in MODEL_PHASES)
    return round(max(0.0, wall - model), 3)


def _usd(micros: int | None) -> float | None:
    return None if micros is None else micros / 1_000_000


def job_log(session: Session, job_id: uuid.UUID, *, owner: str | None = None) -> list[Durable]:
    """A job's whole event log, in order; `NotFound` for an unknown or another owner's job."""
    job = repository.get(session, job_id)
    if job is None or (owner is not None and job.owner != owner):
        raise NotFound(f"no job with id {job_id}")
    return log_after(session, job_id, 0)


def log_after(session: Session, job_id: uuid.UUID, after: int) -> list[Durable]:
    rows = session.execute(
        select(JobEvent.seq, JobEvent.type, JobEvent.payload)
        .where(JobEvent.job_id == job_id, JobEvent.seq > after)
        .order_by(JobEvent.seq)
    )
    return [Durable(job_id, seq, type_, payload) for seq, type_, payload in rows]


def events_behind(session: Session, delivered: dict[uuid.UUID, int]) -> list[Durable]:
    """The events of the jobs in `delivered` past the seq given for each, in order per job:
    one query for where the jobs stand, one per job that moved."""
    behind: list[Durable] = []
    ids = list(delivered)
    for start in range(0, len(ids), 500):
        rows = session.execute(
            select(Job.id, Job.last_event_seq).where(Job.id.in_(ids[start : start + 500]))
        )
        for job_id, last_seq in rows:
            if last_seq > delivered[job_id]:
                behind.extend(log_after(session, job_id, delivered[job_id]))
    return behind
