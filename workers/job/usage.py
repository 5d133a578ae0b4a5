"""What an owner's jobs made and cost over a time window, summed in the database.

`usage()` is what `GET /v1/usage` and `abstrakt-queue usage` show; `reserved_and_spent()`
is what a budget check compares with the budget. Both count jobs by `created_at`, the
moment a job's cost is estimated and reserved, so each job falls in exactly one window.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal

from sqlalchemy import (
    ColumnElement,
    SQLColumnExpression,
    and_,
    case,
    func,
    literal_column,
    or_,
    select,
)
from sqlalchemy.orm import Session

from workers.batch.models import Batch, BatchItem
from workers.job.models import Job
from workers.job.schemas import Usage, UsageRow
from workers.job.status import JobStatus

GroupBy = Literal["model", "day"]
GROUP_BY: tuple[GroupBy, ...] = ("model", "day")
DEFAULT_DAYS = 30

_TERMINAL = (JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED)
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def usage(
    session: Session, *, owner: str, start: datetime, end: datetime, group_by: GroupBy
) -> Usage:
    """`owner`'s jobs created in [start, end), one row per model or per UTC day (only those
    with jobs, in order), and their total."""
    key = Job.model if group_by == "model" else _utc_day(session)
    ended = Job.status.in_(_TERMINAL)
    succeeded = Job.status == JobStatus.SUCCEEDED
    served = and_(succeeded, or_(Job.cache_hit.is_(True), Job.joined_job_id.is_not(None)))
    generated = and_(succeeded, Job.cache_hit.is_(False), Job.joined_job_id.is_(None))
    seconds = Job.result[("video", "duration")].as_float()
    # A job asks for `num_images` (absent: one); a video job counts its seconds instead.
    images = func.coalesce(Job.input["num_images"].as_integer(), 1)
    query = (
        select(
            key.label("key"),
            func.count().label("jobs"),
            _count(succeeded).label("succeeded"),
            _count(Job.status == JobStatus.FAILED).label("failed"),
            _count(Job.status == JobStatus.CANCELED).label("canceled"),
            _count(served).label("from_cache"),
            _sum(and_(generated, Job.kind == "video"), seconds).label("video_seconds"),
            _sum(and_(generated, Job.kind == "image"), images).label("images"),
            _sum(ended, Job.actual_cost_micros).label("spent"),
            _sum(~ended, Job.estimated_cost_micros).label("pending"),
        )
        .where(Job.owner == owner, Job.created_at >= start, Job.created_at < end)
        .group_by(key)
        .order_by(key)
    )
    rows = [
        UsageRow(
            key=str(row.key),
            jobs=row.jobs,
            succeeded=row.succeeded,
            failed=row.failed,
            canceled=row.canceled,
            from_cache=row.from_cache,
            video_seconds=round(float(row.video_seconds), 2),
            images=int(row.images),
            spend_usd=int(row.spent) / 1_000_000,
            pending_usd=int(row.pending) / 1_000_000,
        )
        for row in session.execute(query)
    ]
    return Usage(
        owner=owner, start=start, end=end, group_by=group_by, rows=rows, total=_total(rows)
    )


def reserved_and_spent(session: Session, *, owner: str, since: datetime) -> float:
    """Dollars `owner` has spent or reserved since `since`: the actual cost of the jobs
    created since then that ended, the estimated cost of those not ended yet (a joined job
    keeps its reservation until it ends, as it may yet have to generate), and the estimates
    of batch items not released yet."""
    ended = Job.status.in_(_TERMINAL)
    micros = session.execute(
        select(
            func.coalesce(
                func.sum(
                    case(
                        (ended, func.coalesce(Job.actual_cost_micros, 0)),
                        else_=func.coalesce(Job.estimated_cost_micros, 0),
                    )
                ),
                0,
            )
        ).where(Job.owner == owner, Job.created_at >= since)
    ).scalar_one()
    waiting = session.execute(
        select(func.coalesce(func.sum(BatchItem.estimated_cost_micros), 0))
        .join(Batch, Batch.id == BatchItem.batch_id)
        .where(
            Batch.owner == owner,
            Batch.created_at >= since,
            BatchItem.job_id.is_(None),
            BatchItem.canceled.is_(False),
        )
    ).scalar_one()
    return (int(micros) + int(waiting)) / 1_000_000


def window(start: str | None, end: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The [start, end) a caller means: ISO dates (a date covers its whole UTC day, so
    `to=2026-11-30` includes that day) or ISO times (UTC when no offset is given). Default:
    the last 30 days up to now. Raises `BadWindow` naming the parameter to fix."""
    stop = _instant(end, "to", end_of_day=True) if end else now
    begin = _instant(start, "from", end_of_day=False) if start else stop - timedelta(DEFAULT_DAYS)
    if begin >= stop:
        raise BadWindow(
            "from", f"must be before to: {begin.isoformat()} is not before {stop.isoformat()}"
        )
    return begin, stop


class BadWindow(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _instant(text: str, field: str, *, end_of_day: bool) -> datetime:
    text = text.strip()
    try:
        if _DATE.fullmatch(text):
            day = date.fromisoformat(text) + timedelta(days=1 if end_of_day else 0)
            return datetime.combine(day, time(), tzinfo=UTC)
        instant = datetime.fromisoformat(text)
    except ValueError:
        raise BadWindow(
            field,
            f"{text!r} is neither a date (2026-11-30) nor an ISO 8601 time (2026-11-30T12:00:00Z)",
        ) from None
    return instant.replace(tzinfo=UTC) if instant.tzinfo is None else instant.astimezone(UTC)


def _utc_day(session: Session) -> ColumnElement[str]:
    """A job's creation day in UTC, as YYYY-MM-DD, on Postgres or SQLite (which keeps UTC)."""
    if session.get_bind().dialect.name == "postgresql":
        in_utc = func.timezone(literal_column("'UTC'"), Job.created_at)
        return func.to_char(in_utc, literal_column("'YYYY-MM-DD'"))
    return func.strftime(literal_column("'%Y-%m-%d'"), Job.created_at)


def _count(condition: ColumnElement[bool]) -> ColumnElement[int]:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _sum(condition: ColumnElement[bool], value: SQLColumnExpression[Any]) -> ColumnElement[Any]:
    return func.coalesce(func.sum(case((condition, value), else_=None)), 0)


def _total(rows: list[UsageRow]) -> UsageRow:
    return UsageRow(
        key="total",
        jobs=sum(r.jobs for r in rows),
        succeeded=sum(r.succeeded for r in rows),
        failed=sum(r.failed for r in rows),
        canceled=sum(r.canceled for r in rows),
        from_cache=sum(r.from_cache for r in rows),
        video_seconds=round(sum(r.video_seconds for r in rows), 2),
        images=sum(r.images for r in rows),
        spend_usd=round(sum(r.spend_usd for r in rows), 6),
        pending_usd=round(sum(r.pending_usd for r in rows), 6),
    )
