"""Latency of an owner's jobs over a window, per group: counts, error rate, and p50/p90/p99
of the end-to-end time and of each phase. Everything is aggregated by the database.

A job is in the window when it ended in it (`finished_at`, indexed with the owner), so a
window's figures do not change once it has passed. Percentiles are over the jobs that
succeeded by generating (cache hits and joined jobs take milliseconds and would only
hide how long the model takes); each phase's figure is the job's total time in it over
its attempts, so a retried job counts once.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, Label, and_, case, func, literal, select, union_all
from sqlalchemy.orm import Session

from workers.job.models import Job, JobPhase, Phase
from workers.job.status import JobStatus
from workers.stats import dims, percentiles
from workers.stats.schemas import LatencyGroup, LatencyStats, Percentiles

GROUPS = ("model", "duration", "resolution", "provider")
WORKER_PHASES = (
    Phase.QUEUE_WAIT,
    Phase.MODEL_LOADING,
    Phase.GENERATION,
    Phase.ENCODING,
    Phase.UPLOAD,
)
TOTAL = "end_to_end"
MAX_WINDOW = timedelta(days=366)
_WINDOW = re.compile(r"(\d+)([smhd])")
_UNIT_S = {"s": 1, "m": 60, "h": 3600, "d": 86400}


class BadParameter(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def parse_window(text: str) -> timedelta:
    """`90s`, `30m`, `24h`, `7d` → a timedelta; `BadParameter` naming `window` otherwise."""
    match = _WINDOW.fullmatch(text.strip())
    if not match or int(match[1]) == 0:
        raise BadParameter("window", f"{text!r} is not a window such as 30m, 24h or 7d")
    span = timedelta(seconds=int(match[1]) * _UNIT_S[match[2]])
    if span > MAX_WINDOW:
        raise BadParameter("window", f"at most {MAX_WINDOW.days}d, got {text!r}")
    return span


def parse_group_by(text: str) -> list[str]:
    """`model,duration` → ["model", "duration"]; each of GROUPS at most once."""
    names = [name.strip() for name in text.split(",") if name.strip()]
    unknown = [name for name in names if name not in GROUPS]
    if unknown or not names or len(set(names)) != len(names):
        raise BadParameter(
            "group_by",
            f"{text!r}: give one or more of {', '.join(GROUPS)}, comma-separated, each once",
        )
    return names


def latency(
    session: Session, *, owner: str, now: datetime, window: str, group_by: list[str]
) -> LatencyStats:
    start = now - parse_window(window)
    keys = [_key(session, name) for name in group_by]
    names = [key.name for key in keys]
    in_window = and_(Job.owner == owner, Job.finished_at >= start, Job.finished_at < now)
    groups: dict[tuple[Any, ...], LatencyGroup] = {}
    for row in session.execute(_counts(keys, in_window)):
        values = tuple(row[: len(keys)])
        jobs, failed = int(row.jobs), int(row.failed)
        groups[values] = LatencyGroup(
            group={name: _label(value) for name, value in zip(group_by, values, strict=True)},
            jobs=jobs,
            succeeded=int(row.succeeded),
            failed=failed,
            canceled=int(row.canceled),
            from_cache=int(row.from_cache),
            error_rate=round(failed / jobs, 6) if jobs else 0.0,
            end_to_end=None,
            phases={},
        )
    for row in percentiles.by_group(session, _values(session, keys, in_window), [*names, "metric"]):
        group = groups.get(tuple(row[: len(keys)]))
        if group is None:  # cannot happen: the same jobs were counted
            continue
        figures = Percentiles(
            count=int(row.n),
            p50_ms=round(float(row.p50), 3),
            p90_ms=round(float(row.p90), 3),
            p99_ms=round(float(row.p99), 3),
        )
        metric = row[len(keys)]
        if metric == TOTAL:
            group.end_to_end = figures
        else:
            group.phases[metric] = figures
    for group in groups.values():
        group.phases = {p.value: group.phases[p] for p in WORKER_PHASES if p in group.phases}
    ordered = [groups[key] for key in sorted(groups, key=_sort_key)]
    return LatencyStats(
        owner=owner, window=window, start=start, end=now, group_by=group_by, groups=ordered
    )


def _key(session: Session, name: str) -> Label[Any]:
    expressions: dict[str, ColumnElement[Any]] = {
        "model": Job.model.expression,
        "provider": Job.provider.expression,
        "duration": dims.duration(),
        "resolution": dims.resolution(),
    }
    expression = expressions[name]
    return expression.label(f"g_{name}")


def _counts(keys: list[Label[Any]], in_window: ColumnElement[bool]) -> Any:
    def count(condition: ColumnElement[bool]) -> ColumnElement[int]:
        return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)

    succeeded = Job.status == JobStatus.SUCCEEDED
    served = and_(succeeded, ~dims.generated())
    return (
        select(
            *keys,
            func.count().label("jobs"),
            count(succeeded).label("succeeded"),
            count(Job.status == JobStatus.FAILED).label("failed"),
            count(Job.status == JobStatus.CANCELED).label("canceled"),
            count(served).label("from_cache"),
        )
        .where(in_window)  # finished_at is set only on a terminal move
        .group_by(*(key.element for key in keys))
    )


def _values(session: Session, keys: list[Label[Any]], in_window: ColumnElement[bool]) -> Any:
    """One row per generated job and measure: (group keys…, metric, v in ms)."""
    timed = and_(in_window, dims.generated())
    totals = select(*keys, literal(TOTAL).label("metric"), dims.wall_ms(session).label("v")).where(
        timed
    )
    per_phase = (
        select(*keys, JobPhase.name.label("metric"), func.sum(JobPhase.duration_ms).label("v"))
        .select_from(Job)
        .join(JobPhase, JobPhase.job_id == Job.id)
        .where(timed, JobPhase.name.in_([p.value for p in WORKER_PHASES]))
        # The group keys depend on the job's primary key alone.
        .group_by(Job.id, JobPhase.name)
    )
    return union_all(totals, per_phase).subquery()


def _label(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def _sort_key(values: tuple[Any, ...]) -> tuple[tuple[int, Any], ...]:
    return tuple((0, v) if isinstance(v, int | float) else (1, str(v)) for v in values)
