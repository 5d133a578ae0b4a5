"""How long models took for kinds of jobs, from the rows: p50 and p90 end to end of the
jobs that succeeded by generating, computed by the database with the stats module's
percentiles (`workers.stats.percentiles`), over every owner (a model's speed is not an
owner's secret; only these aggregates leave the database)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, select
from sqlalchemy.orm import Session

from workers.job.models import Job
from workers.stats import dims, percentiles

# Durations within this factor of each other count as the same kind of job.
SIMILAR = 1.25


@dataclass(frozen=True)
class Recorded:
    jobs: int
    p50_ms: float
    p90_ms: float


def label(canonical: dict[str, Any]) -> str:
    """A canonical input's resolution as `dims.resolution()` labels it in SQL."""
    if canonical.get("resolution"):
        return str(canonical["resolution"])
    if "width" in canonical and "height" in canonical:
        return f"{canonical['width']}x{canonical['height']}"
    return "none"


def by_model(session: Session, *, start: datetime, end: datetime) -> dict[str, Recorded]:
    """Each model's figures over every kind of job it made (GET /v1/models)."""
    rows = _figures(session, [Job.model.label("m")], _ended(start, end))
    return {row.m: _recorded(row) for row in rows}


def similar(
    session: Session,
    *,
    models: Sequence[str],
    duration: float | None,
    resolution: str,
    start: datetime,
    end: datetime,
) -> dict[str, Recorded]:
    """Per model, over its jobs like this one: the same resolution, a similar duration."""
    seconds = dims.duration()
    same_length = (
        seconds.is_(None)
        if duration is None
        else and_(seconds >= duration / SIMILAR, seconds <= duration * SIMILAR)
    )
    where = and_(
        _ended(start, end),
        Job.model.in_(models),
        dims.resolution() == resolution,
        same_length,
    )
    rows = _figures(session, [Job.model.label("m")], where)
    return {row.m: _recorded(row) for row in rows}


def shapes(
    session: Session, *, models: Sequence[str], start: datetime, end: datetime
) -> dict[tuple[str, float | None, str], Recorded]:
    """Per (model, duration, resolution): what a refusal offers instead."""
    keys = [
        Job.model.label("m"),
        dims.duration().label("d"),
        dims.resolution().label("r"),
    ]
    rows = _figures(session, keys, and_(_ended(start, end), Job.model.in_(models)))
    return {
        (row.m, None if row.d is None else float(row.d), str(row.r)): _recorded(row) for row in rows
    }


def _ended(start: datetime, end: datetime) -> ColumnElement[bool]:
    return and_(dims.generated(), Job.finished_at >= start, Job.finished_at < end)


def _figures(session: Session, keys: list[Any], where: ColumnElement[bool]) -> Sequence[Any]:
    values = select(*keys, dims.wall_ms(session).label("v")).where(where).subquery()
    return percentiles.by_group(session, values, [key.name for key in keys])


def _recorded(row: Any) -> Recorded:
    return Recorded(jobs=int(row.n), p50_ms=float(row.p50), p90_ms=float(row.p90))
