"""The public view of a batch: its items, their status and results, latency and cost."""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.batch.models import Batch, BatchItem
from workers.batch.schemas import BatchItemRead, BatchRead, LatencyRead
from workers.errors import NotFound
from workers.job.models import Job, JobPhase
from workers.job.schemas import JobError

PENDING, CANCELED = "pending", "canceled"


def owned_batch(session: Session, batch_id: uuid.UUID, owner: str) -> Batch:
    """The batch, if `owner` may see it; else `NotFound`, as for an unknown id."""
    batch = session.get(Batch, batch_id)
    if batch is None or batch.owner != owner:
        raise NotFound(f"no batch with id {batch_id}")
    return batch


def read_batch(session: Session, batch_id: uuid.UUID, *, owner: str) -> BatchRead:
    batch = owned_batch(session, batch_id, owner)
    rows = session.execute(
        select(BatchItem, Job)
        .outerjoin(Job, Job.id == BatchItem.job_id)
        .where(BatchItem.batch_id == batch_id)
        .order_by(BatchItem.index)
    ).all()
    items = [_item(item, job) for item, job in rows]
    counts = Counter(item.status for item in items)
    jobs = [job for _, job in rows if job is not None]
    ended = [job for job in jobs if job.finished_at is not None]
    return BatchRead(
        id=batch.id,
        created_at=batch.created_at,
        canceled_at=batch.canceled_at,
        item_count=batch.item_count,
        counts=dict(counts),
        done=all(item.status in ("succeeded", "failed", CANCELED) for item in items),
        latency=_latency(session, ended),
        estimated_usd=sum(item.estimated_cost_micros for item, _ in rows) / 1_000_000,
        actual_usd=sum(job.actual_cost_micros or 0 for job in ended) / 1_000_000,
        items=items,
    )


def _item(item: BatchItem, job: Job | None) -> BatchItemRead:
    if job is None:
        status = CANCELED if item.canceled else PENDING
        return BatchItemRead(index=item.index, job_id=None, status=status, result=None, error=None)
    error = (
        JobError(code=job.error_code, message=job.error_message or "") if job.error_code else None
    )
    return BatchItemRead(
        index=item.index, job_id=job.id, status=job.status, result=job.result, error=error
    )


def _latency(session: Session, ended: list[Job]) -> LatencyRead:
    totals = [
        (job.finished_at - job.created_at).total_seconds() for job in ended if job.finished_at
    ]
    by_phase: dict[str, list[float]] = defaultdict(list)
    ids = [job.id for job in ended]
    for start in range(0, len(ids), 500):
        for name, ms in session.execute(
            select(JobPhase.name, JobPhase.duration_ms).where(
                JobPhase.job_id.in_(ids[start : start + 500])
            )
        ):
            by_phase[name].append(ms / 1000)
    return LatencyRead(
        total=_percentiles(totals),
        phases={name: _percentiles(values) for name, values in by_phase.items()},
    )


def _percentiles(values: list[float]) -> dict[str, float]:
    if not values:
        return {}
    ordered = sorted(values)

    def at(fraction: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(fraction * len(ordered)))], 3)

    return {"p50": at(0.5), "p90": at(0.9)}
