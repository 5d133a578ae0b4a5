"""SQL expressions over job rows shared by the stats and the metrics: a job's wall time and
the labels it is grouped by, on Postgres and SQLite alike."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Float, Integer, and_, case, cast, func, literal
from sqlalchemy.orm import Session

from workers.job.models import Job
from workers.job.status import JobStatus


def is_postgres(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def wall_ms(session: Session) -> ColumnElement[float]:
    """Milliseconds from the job's creation (the request) to its end: its end-to-end time."""
    if is_postgres(session):
        epoch = func.extract("epoch", Job.finished_at - Job.created_at)
        return cast(epoch, Float) * 1000.0

    # SQLite keeps UTC text, `YYYY-MM-DD HH:MM:SS.ffffff`. Its date functions round to the
    # millisecond (julianday() loses more in its float), so the whole seconds are counted
    # exactly by strftime('%s') and the microseconds added.
    def whole_s(at: Any) -> ColumnElement[int]:
        return cast(func.strftime("%s", func.substr(at, 1, 19)), Integer)

    def fraction_s(at: Any) -> ColumnElement[float]:
        return cast(func.substr(at, 20), Float)

    whole = cast(whole_s(Job.finished_at) - whole_s(Job.created_at), Float)
    fraction = fraction_s(Job.finished_at) - fraction_s(Job.created_at)
    return (whole + fraction) * 1000.0


def generated() -> ColumnElement[bool]:
    """A job that succeeded by generating: neither a cache hit nor joined to another job.
    Latency figures are about these; the others are counted, not timed."""
    return and_(
        Job.status == JobStatus.SUCCEEDED, Job.cache_hit.is_(False), Job.joined_job_id.is_(None)
    )


def duration() -> ColumnElement[float]:
    """The canonical input's `duration` in seconds (NULL for images)."""
    seconds: ColumnElement[float] = Job.input["duration"].as_float()
    return seconds


def resolution() -> ColumnElement[str]:
    """The canonical input's preset (`720p`), else its size (`1000x600`), else `none`."""
    size = Job.input["width"].as_string() + literal("x") + Job.input["height"].as_string()
    return func.coalesce(Job.input["resolution"].as_string(), size, literal("none"))


# Bounded labels for /metrics: every job falls in one of a few duration buckets.
DURATION_BUCKETS: tuple[tuple[float, str], ...] = ((5, "0-5s"), (10, "5-10s"), (20, "10-20s"))
DURATION_OVER = "20s+"
NO_DURATION = "none"


def duration_bucket() -> ColumnElement[str]:
    seconds = duration()
    whens: list[tuple[ColumnElement[bool], Any]] = [(seconds.is_(None), literal(NO_DURATION))]
    whens += [(seconds <= limit, literal(label)) for limit, label in DURATION_BUCKETS]
    return case(*whens, else_=literal(DURATION_OVER))


def resolution_bucket() -> ColumnElement[str]:
    """A preset's name; `custom` for any other size (bounded, unlike the sizes themselves)."""
    preset = Job.input["resolution"].as_string()
    return case(
        (preset.is_not(None), preset),
        (Job.input["width"].as_string().is_not(None), literal("custom")),
        else_=literal("none"),
    )


def epoch_s(session: Session, at: Any) -> ColumnElement[float]:
    """Seconds since 1970 of a UTC timestamp column, to cut time into buckets in SQL."""
    if is_postgres(session):
        return cast(func.extract("epoch", at), Float)
    whole = cast(func.strftime("%s", func.substr(at, 1, 19)), Float)
    return whole + func.coalesce(cast(func.substr(at, 20), Float), 0.0)
