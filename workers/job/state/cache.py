"""The job side of the result cache: hits, single flight, and settling finished jobs.

- **Hit.** The job is created `succeeded` at once with the cached result and `cache_hit`,
  `attempts` 0 and one phase, `cache_lookup` (request received → result found), so its
  phases still add up to its wall time. No task is sent.
- **Single flight.** A miss for a request that is being generated right now joins that job:
  it stays `queued` with `joined_job_id` set and no task, and finishes with the leader's
  result and one `joined_wait` phase. Who leads is decided by the unique (key, scope) row in
  `cache_entries` (`INSERT … ON CONFLICT`), so it holds across API processes.
- **Settling.** Every job that reaches a terminal status is settled in the transaction that
  ended it (`ended.job_ended` calls `settle`): a generated success writes its entry and
  completes its followers; a failed or canceled leader hands its followers to the oldest of
  them, which the sweeper sends (a rejected prompt fails them instead: it would be rejected
  again).

The entry side lives in `workers.cache`; this module writes job rows only through
`transitions` and `phases`.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.cache import repository as cache_repository
from workers.cache import service as cache_service
from workers.cache.keys import SHARED, read_scopes, request_key, write_scope
from workers.cache.readthrough import Cached
from workers.cache.service import Found
from workers.db.base import utcnow
from workers.job import results
from workers.job.models import Job, Phase, Source
from workers.job.state import (
    phases,
    transitions,  # a module import: transitions → ended → cache
)
from workers.job.state.events import append_event
from workers.job.status import JobStatus
from workers.settings import get_settings

log = logging.getLogger(__name__)

# A follower of a leader that failed with one of these fails too instead of retrying:
# the same request would be refused the same way.
_NOT_WORTH_RETRYING = frozenset({"provider_rejected", "content_policy", "invalid_input"})


@dataclass(frozen=True)
class CachePlan:
    key: str
    read_scopes: tuple[str, ...]  # empty: neither served from the cache nor joined
    write_scope: str | None  # None: the result is not stored


def plan_for(
    model: str, canonical: dict[str, Any], *, owner: str, source: Source, use_cache: bool
) -> CachePlan:
    """Where a new job may be served from and where its result goes.

    `use_cache=False` (`"cache": false`) forces a generation, whose result still refreshes
    the entry. Pre-generation writes the shared scope and never reads.
    """
    key = request_key(model, canonical)
    if not cache_service.enabled_for(model):
        return CachePlan(key, (), None)
    if source is Source.PREWARM:
        return CachePlan(key, (), SHARED)
    scope = write_scope(owner, share=get_settings().cache_share_results)
    return CachePlan(key, read_scopes(owner) if use_cache else (), scope)


def find(session: Session, plan: CachePlan, now: datetime) -> Found:
    if not plan.read_scopes:
        return Found()
    return cache_service.find(session, plan.key, plan.read_scopes, now)


def mark_hit(session: Session, job: Job, cached: Cached, started: float) -> None:
    """Make a new job a hit: succeeded now, timed from `started` (a perf_counter reading
    taken when the request arrived, at `job.created_at`). The job is new (born succeeded)
    or queued (a result appeared while it was being added)."""
    elapsed_ms = (time.perf_counter() - started) * 1000
    job.cache_hit = True
    job.result = results.current(cached.result)
    job.enqueued_at = None
    job.started_at = job.created_at
    phases.record(session, job, Phase.CACHE_LOOKUP, job.created_at, elapsed_ms)
    payload: dict[str, Any] = {"result": job.result, "cache_hit": True}
    if cached.job_id is not None:
        payload["from_job_id"] = str(cached.job_id)
    transitions.transition(
        session,
        job,
        status=JobStatus.SUCCEEDED,
        event="succeeded",
        payload=payload,
        at=job.created_at + timedelta(milliseconds=elapsed_ms),
    )


def join_or_lead(
    session: Session, job: Job, plan: CachePlan, found: Found, now: datetime, started: float
) -> None:
    """For a new queued job (flushed): lead its request, join the job generating it, or
    become a hit when a result appeared meanwhile. Retries a lost race twice, then lets the
    job generate on its own (never wrong, only not shared)."""
    if not plan.read_scopes or plan.write_scope is None:
        return
    for _ in range(3):
        if found.cached is not None:
            mark_hit(session, job, found.cached, started)
            return
        if found.leading_entry_id is not None:
            locked = cache_service.lock(session, found.leading_entry_id, now)
            if locked is not None and locked.cached is not None:
                mark_hit(session, job, locked.cached, started)
                return
            if locked is not None and locked.leader_job_id is not None:
                leader = session.get(Job, locked.leader_job_id)
                if leader is not None and not leader.job_status.is_terminal:
                    _join(session, job, leader.id)
                    return
                # The leader's row is gone or ended without settling: lead in its place.
                cache_service.take_over(session, locked.entry_id, job.id, now)
                return
        if _lead(session, job, plan, now, refresh=False):
            return
        found = cache_service.find(session, plan.key, plan.read_scopes, now, use_redis=False)
    log.warning("cache.single_flight_gave_up job_id=%s key=%s", job.id, plan.key)


def lead_for_prewarm(session: Session, job: Job, plan: CachePlan, now: datetime) -> bool:
    """Lead the shared entry for a pre-generation job; False when another job generates it.
    A fresh entry is renewed (the scheduler decides what is due)."""
    return _lead(session, job, plan, now, refresh=True)


def _lead(session: Session, job: Job, plan: CachePlan, now: datetime, *, refresh: bool) -> bool:
    assert plan.write_scope is not None
    return cache_repository.lead(
        session,
        key=plan.key,
        scope=plan.write_scope,
        model=job.model,
        input_=job.input,
        job_id=job.id,
        now=now,
        refresh=refresh,
    )


def _join(session: Session, job: Job, leader_id: uuid.UUID) -> None:
    job.joined_job_id = leader_id
    append_event(session, job, "joined", {"job_id": str(leader_id)})


def settle(session: Session, job: Job) -> None:
    """For a job that just ended: store a generated result and finish the job's followers,
    or hand them on. A hit or a joined job has nothing to settle."""
    if job.cache_key is None or job.cache_hit or job.joined_job_id:
        return
    now = utcnow()
    status = job.job_status
    if status is JobStatus.SUCCEEDED and job.result is not None and job.cache_scope:
        assert job.cache_key is not None
        cache_service.store(
            session,
            key=job.cache_key,
            scope=job.cache_scope,
            model=job.model,
            input_=job.input,
            result=job.result,
            job_id=job.id,
            now=now,
        )
    followers = list(
        session.execute(
            select(Job)
            .where(Job.joined_job_id == job.id, Job.status == JobStatus.QUEUED)
            .order_by(Job.created_at)
            .with_for_update()
        ).scalars()
    )
    if status is JobStatus.SUCCEEDED:
        cache_repository.hand_over(session, job.id, None, now)
        for follower in followers:
            _succeed_follower(session, follower, job, now)
    elif followers and job.error_code not in _NOT_WORTH_RETRYING:
        heir, *rest = followers
        heir.joined_job_id = None
        heir.enqueued_at = None  # unsent: the sweeper sends it
        append_event(session, heir, "leading", {"after": str(job.id), "reason": job.status})
        for follower in rest:
            follower.joined_job_id = heir.id
        cache_repository.hand_over(session, job.id, heir.id, now)
        log.warning("cache.leader_handed_over job_id=%s heir=%s", job.id, heir.id)
    else:
        cache_repository.hand_over(session, job.id, None, now)
        for follower in followers:
            _fail_follower(session, follower, job, now)
    if followers:
        log.info("cache.followers_settled job_id=%s count=%s", job.id, len(followers))


def _succeed_follower(session: Session, follower: Job, leader: Job, now: datetime) -> None:
    # queued → succeeded skips `running`: a follower never runs, it waits for its leader.
    follower.result = leader.result
    follower.started_at = follower.created_at
    wait_ms = max(0.0, (now - follower.created_at).total_seconds() * 1000)
    phases.record(session, follower, Phase.JOINED_WAIT, follower.created_at, wait_ms)
    transitions.transition(
        session,
        follower,
        status=JobStatus.SUCCEEDED,
        event="succeeded",
        payload={"result": leader.result, "joined_job_id": str(leader.id)},
        at=now,
    )


def _fail_follower(session: Session, follower: Job, leader: Job, now: datetime) -> None:
    follower.error_code = leader.error_code
    follower.error_message = (
        f"the identical job {leader.id} it joined failed: {leader.error_message or ''}"
    )
    transitions.transition(
        session,
        follower,
        status=JobStatus.FAILED,
        event="failed",
        payload={"code": leader.error_code, "joined_job_id": str(leader.id)},
        at=now,
    )
