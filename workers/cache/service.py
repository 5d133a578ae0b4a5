"""The only writer of cache entries. Functions flush; whoever started the work commits.

Knows nothing of jobs beyond their ids: the job service decides what a hit, a join or a
lead means for a job, and calls in here for the entry's side.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from workers.cache import readthrough, repository
from workers.cache.models import CacheEntry
from workers.cache.readthrough import Cached
from workers.settings import get_settings


def ttl_s(model: str) -> float:
    settings = get_settings()
    return settings.cache_model_ttl_s.get(model, settings.cache_ttl_s)


def enabled_for(model: str) -> bool:
    """Whether `model`'s results are cached at all (a TTL of 0 turns one model off)."""
    return get_settings().cache_enabled and ttl_s(model) > 0


@dataclass(frozen=True)
class Found:
    """What the cache holds for a request: a fresh result, or a generation to join, or neither."""

    cached: Cached | None = None
    leading_entry_id: int | None = None


def _cached(entry: CacheEntry) -> Cached:
    assert entry.result is not None
    assert entry.expires_at is not None
    return Cached(entry.result, entry.expires_at, entry.result_job_id)


def find(
    session: Session, key: str, scopes: tuple[str, ...], now: datetime, *, use_redis: bool = True
) -> Found:
    """Redis first (one round trip); then Postgres, copying a fresh entry into Redis."""
    if use_redis:
        cached = readthrough.get_fresh(scopes, key, now)
        if cached is not None:
            return Found(cached=cached)
    rows = repository.entries(session, key, scopes)
    fresh = [row for row in rows if row.is_fresh(now)]
    if fresh:
        best = max(fresh, key=lambda row: row.expires_at or now)
        cached = _cached(best)
        readthrough.put(best.scope, key, cached, now)
        return Found(cached=cached)
    leading = [row for row in rows if row.leader_job_id is not None]
    if leading:
        first = min(leading, key=lambda row: row.leader_since or now)
        return Found(leading_entry_id=first.id)
    return Found()


@dataclass(frozen=True)
class Locked:
    """An entry read under its row lock: fresh, or led by `leader_job_id`, or neither."""

    entry_id: int
    cached: Cached | None
    leader_job_id: uuid.UUID | None


def lock(session: Session, entry_id: int, now: datetime) -> Locked | None:
    entry = repository.get_for_update(session, entry_id)
    if entry is None:
        return None
    cached = _cached(entry) if entry.is_fresh(now) else None
    return Locked(entry.id, cached, entry.leader_job_id)


def take_over(session: Session, entry_id: int, job_id: uuid.UUID, now: datetime) -> None:
    """The entry's leader is gone (a lost row): `job_id` leads it now. Call under `lock`."""
    entry = session.get(CacheEntry, entry_id)
    assert entry is not None
    entry.leader_job_id, entry.leader_since = job_id, now


def store(
    session: Session,
    *,
    key: str,
    scope: str,
    model: str,
    input_: dict[str, Any],
    result: dict[str, Any],
    job_id: uuid.UUID,
    now: datetime,
) -> None:
    """Write or refresh an entry with a finished job's result, fresh for the model's TTL."""
    repository.store_result(
        session,
        key=key,
        scope=scope,
        model=model,
        input_=input_,
        result=result,
        job_id=job_id,
        now=now,
        expires_at=now + timedelta(seconds=ttl_s(model)),
    )
