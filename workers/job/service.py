"""The only writer of job state. Functions flush; whoever started the work commits."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workers.catalog.availability import availability
from workers.catalog.models import ModelSpec
from workers.catalog.registry import get_model
from workers.catalog.validation import normalize_input
from workers.db.base import utcnow
from workers.errors import Conflict, InvalidInput, NotFound
from workers.job import cached, provider_health, repository
from workers.job.events import append_event
from workers.job.models import DEFAULT_OWNER, PREWARM_OWNER, Job, JobPhase, Phase, Source
from workers.job.provider_health import Wait
from workers.job.schemas import JobCreate
from workers.job.status import JobStatus, check_transition

log = logging.getLogger(__name__)


def request_hash(model: str, canonical_input: dict[str, Any], priority: int) -> str:
    body = json.dumps([model, canonical_input, priority], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Created:
    job: Job
    created: bool  # False when an idempotency key matched an existing job

    @property
    def needs_task(self) -> bool:
        """A new job a worker must run: neither a cache hit nor joined to an identical job."""
        return (
            self.created
            and self.job.job_status is JobStatus.QUEUED
            and self.job.joined_job_id is None
        )


def create_job(session: Session, request: JobCreate, *, owner: str = DEFAULT_OWNER) -> Created:
    """Validate `request` and add its job, or return the job its idempotency key names.

    A fresh cached result makes the job succeed at once (a hit); an identical request being
    generated right now is joined (single flight); see `workers.job.cached`.
    Raises `InvalidInput` (nothing written) or `Conflict` (key reused for another request).
    """
    started, now = time.perf_counter(), utcnow()  # a hit's latency counts from here
    spec = get_model(request.model)
    usable = availability(spec)
    if not usable.available:
        raise InvalidInput.at("model", msg=usable.reason or "unavailable")
    canonical = normalize_input(spec, request.input)
    digest = request_hash(spec.id, canonical, request.priority)
    if request.idempotency_key is not None:
        existing = repository.by_idempotency_key(session, owner, request.idempotency_key)
        if existing is not None:
            return Created(_same_request(existing, digest), created=False)
    plan = cached.plan_for(
        spec.id, canonical, owner=owner, source=Source.REQUEST, use_cache=request.cache
    )
    found = cached.find(session, plan, now)
    job = _new_job(
        spec,
        canonical,
        owner=owner,
        source=Source.REQUEST,
        priority=request.priority,
        idempotency_key=request.idempotency_key,
        digest=digest,
        plan=plan,
        now=now,
    )
    session.add(job)
    if found.cached is not None:
        cached.mark_hit(session, job, found.cached, started)
    else:
        append_event(session, job, "queued", {"model": spec.id, "priority": request.priority})
    if request.idempotency_key is None:
        session.flush()
        if job.job_status is JobStatus.QUEUED:
            cached.join_or_lead(session, job, plan, found, now, started)
        return Created(job, created=True)
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        # A concurrent request with the same key won the race; answer with its job.
        session.expunge(job)
        existing = repository.by_idempotency_key(session, owner, request.idempotency_key)
        if existing is None:
            raise
        return Created(_same_request(existing, digest), created=False)
    if job.job_status is JobStatus.QUEUED:
        cached.join_or_lead(session, job, plan, found, now, started)
    return Created(job, created=True)


def _new_job(
    spec: ModelSpec,
    canonical: dict[str, Any],
    *,
    owner: str,
    source: Source,
    priority: int,
    idempotency_key: str | None,
    digest: str,
    plan: cached.CachePlan,
    now: datetime,
) -> Job:
    return Job(
        id=uuid.uuid4(),
        owner=owner,
        model=spec.id,
        kind=spec.kind,
        provider=spec.provider,
        input=canonical,
        status=JobStatus.QUEUED,
        priority=priority,
        idempotency_key=idempotency_key,
        request_hash=digest,
        attempts=0,
        last_event_seq=0,
        source=source,
        cache_key=plan.key,
        cache_scope=plan.write_scope,
        cache_hit=False,
        created_at=now,
        # The producer sends the task right after commit; a failed send clears this again.
        enqueued_at=now,
    )


def create_prewarm_job(
    session: Session, *, model: str, input_: dict[str, Any], priority: int
) -> Job | None:
    """Add a queued pre-generation job that leads (renews) the shared cache entry of its
    request; the caller decided it is due. None, writing nothing, when another job is
    generating it, when the model's cache is off, or when the model cannot run here.
    Raises `InvalidInput`.
    """
    spec = get_model(model)
    usable = availability(spec)
    if not usable.available:
        log.warning("prewarm.model_unavailable model=%s reason=%s", spec.id, usable.reason)
        return None
    canonical = normalize_input(spec, input_)
    plan = cached.plan_for(
        spec.id, canonical, owner=PREWARM_OWNER, source=Source.PREWARM, use_cache=False
    )
    if plan.write_scope is None:
        return None
    now = utcnow()
    job = _new_job(
        spec,
        canonical,
        owner=PREWARM_OWNER,
        source=Source.PREWARM,
        priority=priority,
        idempotency_key=None,
        digest=request_hash(spec.id, canonical, priority),
        plan=plan,
        now=now,
    )
    # Claiming first writes nothing when another job leads: entries hold job ids, not keys.
    if not cached.claim_for_prewarm(session, job, plan, now):
        return None
    session.add(job)
    append_event(session, job, "queued", {"model": spec.id, "priority": priority})
    session.flush()
    return job


def _same_request(existing: Job, digest: str) -> Job:
    if existing.request_hash != digest:
        raise Conflict(
            f"idempotency_key {existing.idempotency_key!r} was used for a different request "
            f"(job {existing.id}); use a new key for a new request"
        )
    return existing


def mark_unsent(session: Session, job_id: uuid.UUID) -> None:
    """The task could not be sent: leave the job for the sweeper to send."""
    job = repository.get_for_update(session, job_id)
    if job is not None and job.job_status is JobStatus.QUEUED:
        job.enqueued_at = None


def mark_resent(session: Session, job_id: uuid.UUID) -> None:
    job = repository.get_for_update(session, job_id)
    if job is not None and job.job_status is JobStatus.QUEUED and job.enqueued_at is None:
        job.enqueued_at = utcnow()


@dataclass(frozen=True)
class Claim:
    """A snapshot of a claimed job, safe to use after its session closes."""

    job_id: uuid.UUID
    model: str
    input: dict[str, Any]
    attempt: int
    started_at: datetime
    submit_state: str | None = None  # hosted jobs: how far the provider submission got


def claim(
    session: Session, job_id: uuid.UUID, *, lease_s: float, provider_limit: int | None = None
) -> Claim | Wait | None:
    """Move a queued job (or a running one whose worker's lease expired) to running.

    Returns None, changing nothing, when the job is missing, finished, or held by a live
    worker: a duplicate delivery is harmless. With `provider_limit`, a hosted job not yet
    submitted is left queued when its provider's circuit is open or its limit is reached,
    and the `Wait` says for how long. Records the attempt's `queue_wait` phase.
    """
    job = repository.get_for_update(session, job_id)
    if job is None:
        log.warning("job.claim_missing job_id=%s", job_id)
        return None
    now = utcnow()
    status = job.job_status
    lost = status is JobStatus.RUNNING and job.lease_expires_at and job.lease_expires_at < now
    if not lost and status is not JobStatus.QUEUED:
        log.info("job.claim_skipped job_id=%s status=%s", job.id, status)
        return None
    if provider_limit is not None and job.provider != "local" and job.submit_state is None:
        wait = provider_health.wait_before_submit(session, job.provider, limit=provider_limit)
        if wait is not None:
            return wait
    if lost:
        log.warning("job.lease_expired job_id=%s attempt=%s", job.id, job.attempts)
        job.status = JobStatus.QUEUED  # the lost attempt ends here; a new one starts below
        job.enqueued_at = job.lease_expires_at  # the new attempt waited from the expiry on
        append_event(session, job, "requeued", {"reason": "worker_lost"})
    check_transition(JobStatus.QUEUED, JobStatus.RUNNING)
    waited_from = job.enqueued_at or job.created_at
    job.status = JobStatus.RUNNING
    job.attempts += 1
    job.started_at = now
    job.phase_mark_at = now
    job.lease_expires_at = now + timedelta(seconds=lease_s)
    wait_ms = max(0.0, (now - waited_from).total_seconds() * 1000)
    add_phase(session, job, Phase.QUEUE_WAIT, waited_from, wait_ms)
    append_event(session, job, "running", {"attempt": job.attempts})
    return Claim(job.id, job.model, dict(job.input), job.attempts, now, job.submit_state)


def add_phase(
    session: Session, job: Job, phase: Phase, started_at: datetime, duration_ms: float
) -> None:
    session.add(
        JobPhase(
            job_id=job.id,
            attempt=job.attempts,
            name=phase,
            started_at=started_at,
            duration_ms=duration_ms,
        )
    )
    job.phase_mark_at = started_at + timedelta(milliseconds=duration_ms)
    append_event(session, job, "phase", {"name": phase, "duration_ms": round(duration_ms, 3)})


def locked_running(session: Session, claim_: Claim) -> Job | None:
    """The claimed attempt's job row, locked; None when the attempt is no longer current."""
    job = repository.get_for_update(session, claim_.job_id)
    if job is None or job.job_status is not JobStatus.RUNNING or job.attempts != claim_.attempt:
        return None
    return job


def renew_lease(session: Session, claim_: Claim, *, lease_s: float) -> bool:
    """Extend a live attempt's lease; False when the attempt is no longer current.

    One conditional UPDATE, no row held: the heartbeat must never wait on the worker.
    """
    result = session.execute(
        update(Job)
        .where(
            Job.id == claim_.job_id,
            Job.status == JobStatus.RUNNING,
            Job.attempts == claim_.attempt,
            Job.lease_expires_at.is_not(None),
        )
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def record_phase(
    session: Session,
    claim_: Claim,
    phase: Phase,
    started_at: datetime,
    duration_ms: float,
    *,
    lease_s: float,
) -> bool:
    """Record a finished phase and renew the lease; False if the attempt is no longer ours."""
    job = locked_running(session, claim_)
    if job is None:
        return False
    add_phase(session, job, phase, started_at, duration_ms)
    job.lease_expires_at = utcnow() + timedelta(seconds=lease_s)
    return True


def succeed(
    session: Session,
    claim_: Claim,
    *,
    result: dict[str, Any],
    last_phase: tuple[Phase, datetime, float],
    finished_at: datetime,
) -> bool:
    """Record the last phase and the result in one transaction: the job is done atomically."""
    job = locked_running(session, claim_)
    if job is None:
        return False
    add_phase(session, job, *last_phase)
    finish(job, JobStatus.SUCCEEDED)
    job.result = result
    job.finished_at = finished_at
    append_event(session, job, "succeeded", {"result": result})
    return True


def fail(session: Session, job_id: uuid.UUID, *, code: str, message: str) -> bool:
    """Fail a queued or running job with an error; a finished job is left as it is."""
    job = repository.get_for_update(session, job_id)
    if job is None or job.job_status.is_terminal:
        return False
    finish(job, JobStatus.FAILED)
    job.error_code = code
    job.error_message = message
    append_event(session, job, "failed", {"code": code, "message": message})
    return True


def finish(job: Job, status: JobStatus) -> None:
    """Move a job to a terminal status and release everything that holds it."""
    check_transition(job.job_status, status)
    job.status = status
    job.finished_at = utcnow()
    job.lease_expires_at = None
    job.next_poll_at = None
    job.poll_lease_until = None
    cached.settle_later(job)  # its cache entry and followers, before the commit


@dataclass(frozen=True)
class Canceled:
    job_id: uuid.UUID
    status: str
    # Set when the provider holds a request to cancel: the caller sends that after commit.
    cancel_at_provider: bool


def cancel(session: Session, job_id: uuid.UUID, *, owner: str | None = None) -> Canceled:
    """Cancel a queued or running job. Raises NotFound, or Conflict for a finished job."""
    job = repository.get_for_update(session, job_id)
    if job is None or (owner is not None and job.owner != owner):
        raise NotFound(f"no job with id {job_id}")
    if job.job_status.is_terminal:
        raise Conflict(f"job {job_id} already {job.status}; only queued or running jobs cancel")
    finish(job, JobStatus.CANCELED)
    job.error_code = "canceled"
    job.error_message = "canceled by request"
    append_event(session, job, "canceled", {"by": "request"})
    at_provider = job.provider_request_id is not None or job.submit_state == "intent"
    return Canceled(job.id, job.status, cancel_at_provider=at_provider)


def requeue_for_retry(session: Session, claim_: Claim, *, reason: str) -> bool:
    """Send a running attempt back to the queue after a transient error."""
    job = locked_running(session, claim_)
    if job is None:
        return False
    check_transition(job.job_status, JobStatus.QUEUED)
    job.status = JobStatus.QUEUED
    job.lease_expires_at = None
    job.enqueued_at = utcnow()  # the next attempt's queue wait starts now
    append_event(session, job, "retrying", {"attempt": job.attempts, "reason": reason})
    return True
