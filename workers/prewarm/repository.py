"""Queries for pre-generation. Reads job rows (counts, popularity) but never writes them."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workers.db.upsert import insert
from workers.job.models import Job, Source
from workers.job.status import JobStatus
from workers.prewarm.models import PrewarmPrompt, PrewarmRun


def all_prompts(session: Session, *, owner: str | None = None) -> Sequence[PrewarmPrompt]:
    """Every owner's items (None), or one owner's."""
    query = select(PrewarmPrompt).order_by(PrewarmPrompt.id)
    if owner is not None:
        query = query.where(PrewarmPrompt.owner == owner)
    return session.execute(query).scalars().all()


def by_key(session: Session, owner: str, cache_key: str) -> PrewarmPrompt | None:
    return session.execute(
        select(PrewarmPrompt).where(
            PrewarmPrompt.owner == owner, PrewarmPrompt.cache_key == cache_key
        )
    ).scalar_one_or_none()


def active_jobs(session: Session) -> int:
    """Pre-generation jobs queued or running now: what the in-flight cap counts."""
    return int(
        session.execute(
            select(func.count())
            .select_from(Job)
            .where(
                Job.source == Source.PREWARM,
                Job.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]),
            )
        ).scalar_one()
    )


def most_requested(
    session: Session, *, since: datetime, min_requests: int, limit: int
) -> list[tuple[str, dict[str, Any]]]:
    """(model, canonical input) of the most requested callers' requests since `since`."""
    top = (
        select(Job.cache_key, func.count().label("n"), func.max(Job.created_at).label("last"))
        .where(Job.source == Source.REQUEST, Job.created_at >= since, Job.cache_key.is_not(None))
        .group_by(Job.cache_key)
        .having(func.count() >= min_requests)
        .order_by(func.count().desc())
        .limit(limit)
        .subquery()
    )
    rows = session.execute(
        select(Job.model, Job.input)
        .join(top, (Job.cache_key == top.c.cache_key) & (Job.created_at == top.c.last))
        .order_by(top.c.n.desc())
    )
    seen: set[str] = set()
    picked = []
    for model, input_ in rows:
        marker = f"{model}\x00{sorted(input_.items())}"
        if marker not in seen:  # two requests at the same instant: keep one
            seen.add(marker)
            picked.append((model, dict(input_)))
    return picked


def take_slot(session: Session, slot: datetime, now: datetime) -> bool:
    """Record that `slot` fired; False when it already had (another beat's firing)."""
    stmt = (
        insert(session, PrewarmRun)
        .values(slot=slot, started_at=now, jobs_started=0)
        .on_conflict_do_nothing(index_elements=[PrewarmRun.slot])
        .returning(PrewarmRun.slot)
    )
    return session.execute(stmt).scalar_one_or_none() is not None


def run_for_update(session: Session, slot: datetime) -> PrewarmRun | None:
    return session.execute(
        select(PrewarmRun).where(PrewarmRun.slot == slot).with_for_update()
    ).scalar_one_or_none()


def latest_slot(session: Session) -> datetime | None:
    value: datetime | None = session.execute(select(func.max(PrewarmRun.slot))).scalar_one()
    return value
