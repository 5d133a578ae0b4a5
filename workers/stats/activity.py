"""What an owner's jobs are doing over time, for the dashboard: jobs ended per time bucket
(how they ended, how many came from the cache), and the jobs in flight now with their
phase and progress. Buckets are counted by the database (one row per bucket comes back).
"""

from __future__ import annotations

import math
import uuid
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from workers.job.live import progress
from workers.job.models import Job, JobPhase, Phase
from workers.job.status import JobStatus
from workers.stats import dims
from workers.stats.latency import parse_window
from workers.stats.schemas import Activity, ActivityBucket, CacheRate, InFlight

MAX_BUCKETS = 120
IN_FLIGHT_SHOWN = 50


def activity(session: Session, *, owner: str, now: datetime, window: str, buckets: int) -> Activity:
    span = parse_window(window)
    buckets = max(1, min(MAX_BUCKETS, buckets))
    width_s = span.total_seconds() / buckets
    start = now - span
    series = _series(session, owner, start, now, width_s, buckets)
    served = sum(b.from_cache for b in series)
    generated = sum(b.succeeded - b.from_cache for b in series)
    return Activity(
        owner=owner,
        window=window,
        start=start,
        end=now,
        bucket_s=width_s,
        series=series,
        cache=CacheRate(
            from_cache=served,
            generated=generated,
            hit_rate=round(served / (served + generated), 6) if served + generated else None,
        ),
        in_flight=in_flight(session, owner=owner, now=now),
    )


def _series(
    session: Session, owner: str, start: datetime, now: datetime, width_s: float, buckets: int
) -> list[ActivityBucket]:
    offset = dims.epoch_s(session, Job.finished_at) - start.timestamp()
    index = func.floor(offset / width_s).label("bucket")

    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    rows = session.execute(
        select(
            index,
            func.count().label("jobs"),
            count(Job.status == JobStatus.SUCCEEDED),
            count(Job.status == JobStatus.FAILED),
            count(Job.status == JobStatus.CANCELED),
            count(and_(Job.status == JobStatus.SUCCEEDED, ~dims.generated())),
        )
        .where(Job.owner == owner, Job.finished_at >= start, Job.finished_at < now)
        .group_by(index)
    ).all()
    by_index = {min(buckets - 1, int(row[0])): row for row in rows}
    series = []
    for i in range(buckets):
        row = by_index.get(i)
        jobs, succeeded, failed, canceled, cached = (
            (int(v) for v in row[1:]) if row is not None else (0, 0, 0, 0, 0)
        )
        series.append(
            ActivityBucket(
                start=start + timedelta(seconds=i * width_s),
                jobs=jobs,
                succeeded=succeeded,
                failed=failed,
                canceled=canceled,
                from_cache=cached,
                error_rate=round(failed / jobs, 6) if jobs else 0.0,
            )
        )
    return series


def in_flight(session: Session, *, owner: str, now: datetime) -> list[InFlight]:
    """The owner's queued and running jobs, oldest first: the phase each is in (the one
    after its attempt's last recorded phase) and the progress bar's value for it."""
    jobs = session.scalars(
        select(Job)
        .where(Job.owner == owner, Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
        .order_by(Job.created_at)
        .limit(IN_FLIGHT_SHOWN)
    ).all()
    last: dict[uuid.UUID, str] = {}
    if jobs:
        latest = (
            select(JobPhase.job_id, func.max(JobPhase.id).label("id"))
            .join(Job, Job.id == JobPhase.job_id)
            .where(JobPhase.job_id.in_([j.id for j in jobs]), JobPhase.attempt == Job.attempts)
            .group_by(JobPhase.job_id)
            .subquery()
        )
        for job_id, name in session.execute(
            select(JobPhase.job_id, JobPhase.name).join(latest, latest.c.id == JobPhase.id)
        ):
            last[job_id] = name
    shown = []
    for job in jobs:
        if job.status == JobStatus.QUEUED or job.id not in last:
            phase: str = Phase.QUEUE_WAIT
        else:
            phase = progress.after(last[job.id])
        since = job.phase_mark_at or job.started_at or job.created_at
        shown.append(
            InFlight(
                id=job.id,
                model=job.model,
                status=job.status,
                phase=phase,
                progress=progress.overall(phase) if phase != progress.DONE else 99,
                created_at=job.created_at,
                phase_elapsed_s=max(0.0, math.floor((now - since).total_seconds() * 10) / 10),
            )
        )
    return shown
