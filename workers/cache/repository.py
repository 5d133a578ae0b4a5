"""Queries on cache entries. Upserts go through `INSERT … ON CONFLICT` so that the unique
(key, scope) row decides races between API processes; nothing here commits."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import case, or_, select, true, update
from sqlalchemy.orm import Session

from workers.cache.models import CacheEntry
from workers.db.upsert import insert


def entries(session: Session, key: str, scopes: Sequence[str]) -> Sequence[CacheEntry]:
    return (
        session.execute(
            select(CacheEntry)
            .where(CacheEntry.key == key, CacheEntry.scope.in_(scopes))
            .execution_options(populate_existing=True)
        )
        .scalars()
        .all()
    )


def get_for_update(session: Session, entry_id: int) -> CacheEntry | None:
    return session.execute(
        select(CacheEntry)
        .where(CacheEntry.id == entry_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one_or_none()


def by_keys(session: Session, keys: Sequence[str], scope: str) -> dict[str, CacheEntry]:
    rows = session.execute(
        select(CacheEntry).where(CacheEntry.key.in_(keys), CacheEntry.scope == scope)
    ).scalars()
    return {row.key: row for row in rows}


def lead(
    session: Session,
    *,
    key: str,
    scope: str,
    model: str,
    input_: dict[str, Any],
    job_id: uuid.UUID,
    now: datetime,
    refresh: bool = False,
) -> bool:
    """Make `job_id` the generation in flight for (key, scope), unless another job leads
    or the entry is fresh (`refresh`: even then). A concurrent caller waits on the row and
    then sees ours."""
    stmt = insert(session, CacheEntry).values(
        key=key,
        scope=scope,
        model=model,
        input=input_,
        leader_job_id=job_id,
        leader_since=now,
        created_at=now,
    )
    stale = or_(
        CacheEntry.result.is_(None), CacheEntry.expires_at.is_(None), CacheEntry.expires_at <= now
    )
    stmt = stmt.on_conflict_do_update(
        index_elements=[CacheEntry.key, CacheEntry.scope],
        set_={"leader_job_id": job_id, "leader_since": now},
        where=CacheEntry.leader_job_id.is_(None) & (true() if refresh else stale),
    ).returning(CacheEntry.id)
    return session.execute(stmt).scalar_one_or_none() is not None


def store_result(
    session: Session,
    *,
    key: str,
    scope: str,
    model: str,
    input_: dict[str, Any],
    result: dict[str, Any],
    job_id: uuid.UUID,
    now: datetime,
    expires_at: datetime,
) -> None:
    """Write or refresh the entry's result; the job stops leading it if it did."""
    stmt = insert(session, CacheEntry).values(
        key=key,
        scope=scope,
        model=model,
        input=input_,
        result=result,
        result_job_id=job_id,
        expires_at=expires_at,
        created_at=now,
        refreshed_at=now,
    )
    ours = CacheEntry.leader_job_id == job_id
    stmt = stmt.on_conflict_do_update(
        index_elements=[CacheEntry.key, CacheEntry.scope],
        set_={
            "result": stmt.excluded.result,
            "result_job_id": job_id,
            "expires_at": expires_at,
            "refreshed_at": now,
            "leader_job_id": case((ours, None), else_=CacheEntry.leader_job_id),
            "leader_since": case((ours, None), else_=CacheEntry.leader_since),
        },
    )
    # Through the connection: a plain Core upsert. The ORM's bulk-insert path costs more than
    # the statement itself, and this runs at the end of every job that refreshes the cache.
    session.connection().execute(stmt)


def hand_over(
    session: Session, from_job: uuid.UUID, to_job: uuid.UUID | None, now: datetime
) -> None:
    """Every entry led by `from_job` is now led by `to_job` (None: by nobody)."""
    session.execute(
        update(CacheEntry)
        .where(CacheEntry.leader_job_id == from_job)
        .values(leader_job_id=to_job, leader_since=now if to_job else None)
        .execution_options(synchronize_session=False)
    )
