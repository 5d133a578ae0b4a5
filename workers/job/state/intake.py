"""New jobs: validate a request and add its job, answered from the cache, joined to an
identical job in flight, or queued for a worker. Functions flush; the caller commits and
sends the job's message (`workers.job.messages`)."""

from __future__ import annotations

import hashlib
import json
import logging
import time
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workers.catalog import preview
from workers.catalog.availability import availability
from workers.catalog.models import ModelSpec
from workers.catalog.registry import get_model
from workers.catalog.validation import normalize_input
from workers.db.base import utcnow
from workers.errors import Conflict, InvalidInput
from workers.job import admission, repository
from workers.job.models import PREWARM_OWNER, Job, Source
from workers.job.schemas import JobCreate
from workers.job.state import cache, cost
from workers.job.state.transitions import transition
from workers.job.status import JobStatus
from workers.key.caller import ANONYMOUS, Caller
from workers.media.formats import MediaKind
from workers.webhook import subscription as webhook_subscription

log = logging.getLogger(__name__)


def request_hash(model: str, canonical_input: dict[str, Any], priority: int) -> str:
    body = json.dumps([model, canonical_input, priority], sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(body.encode()).hexdigest()


@dataclass(frozen=True)
class Created:
    job: Job
    created: bool  # False when an idempotency key matched an existing job
    preview: Created | None = None  # preview first: the image job previewing this video

    @property
    def needs_task(self) -> bool:
        """A new job a worker must run: neither a cache hit nor joined to an identical job."""
        return (
            self.created
            and self.job.job_status is JobStatus.QUEUED
            and self.job.joined_job_id is None
        )


def create_job(
    session: Session,
    request: JobCreate,
    *,
    caller: Caller = ANONYMOUS,
    parent: Job | None = None,
    admitted: bool = False,
) -> Created:
    """Validate `request` and add its job, or return the job its idempotency key names.

    A fresh cached result makes the job succeed at once (a hit); an identical request being
    generated right now is joined (single flight); see `workers.job.state.cache`. With
    `preview`, a video job gets an image job previewing it (`Created.preview`); that job,
    made with its `parent`, is part of its parent's request and admitted with it; a batch's
    item is `admitted` with its batch.
    Raises `InvalidInput` (nothing written), `Conflict` (key reused for another request),
    or what `admission.admit` raises for a job the caller's key may not add now.
    """
    owner = caller.owner
    started, now = time.perf_counter(), utcnow()  # a hit's latency counts from here
    spec, canonical = validate(request)
    # A preview job's events reach its parent's webhook through the parent's log.
    webhook = (
        webhook_subscription.for_request(request.webhook_url, request.webhook_events, caller)
        if parent is None
        else None
    )
    digest = request_hash(spec.id, canonical, request.priority)
    if request.idempotency_key is not None:
        existing = repository.by_idempotency_key(session, owner, request.idempotency_key)
        if existing is not None:
            return Created(_same_request(existing, digest), created=False)
    plan = cache.plan_for(
        spec.id, canonical, owner=owner, source=Source.REQUEST, use_cache=request.cache
    )
    found = cache.find(session, plan, now)
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
    job.parent_job_id = parent.id if parent is not None else None
    if webhook is not None:  # before its first transition: that may already end it (a hit)
        job.webhook_url, job.webhook_signer = webhook.url, webhook.signer
        job.webhook_events = [str(event) for event in webhook.events]
    if found.cached is None and parent is None and not admitted:  # a hit costs nothing
        admission.admit(session, caller, estimate_usd=cost.estimate_usd(job), now=now)
    if found.cached is None:
        _queue(session, job)
    else:  # a hit is born succeeded: it never waits in a queue
        session.add(job)
        cache.mark_hit(session, job, found.cached, started)
    if request.idempotency_key is None:
        session.flush()
        if job.job_status is JobStatus.QUEUED:
            cache.join_or_lead(session, job, plan, found, now, started)
        return Created(job, created=True, preview=_preview(session, request, spec, job, caller))
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
        cache.join_or_lead(session, job, plan, found, now, started)
    return Created(job, created=True, preview=_preview(session, request, spec, job, caller))


def validate(request: JobCreate) -> tuple[ModelSpec, dict[str, Any]]:
    """The request's model and canonical input; raises `InvalidInput` naming the field."""
    spec = get_model(request.model)
    usable = availability(spec)
    if not usable.available:
        raise InvalidInput.at("model", msg=usable.reason or "unavailable")
    if request.preview and spec.kind is not MediaKind.VIDEO:
        raise InvalidInput.at("preview", msg=f"is for video models; {spec.id} makes {spec.kind}")
    if request.webhook_url is not None:  # resolved and checked here, before anything is written
        webhook_subscription.checked_url(request.webhook_url)
    return spec, normalize_input(spec, request.input)


def _preview(
    session: Session, request: JobCreate, spec: ModelSpec, job: Job, caller: Caller
) -> Created | None:
    """The image job previewing a new video job (none for a job already answered)."""
    if not request.preview or job.job_status is not JobStatus.QUEUED:
        return None
    image = preview.preview_model(spec)
    if image is None:
        log.info("job.no_preview_model job_id=%s model=%s", job.id, spec.id)
        return None
    preview_request = JobCreate(
        model=image.id,
        input=preview.preview_input(image, job.input),
        priority=min(9, job.priority + 1),  # ahead of its video on a busy queue
        cache=request.cache,
    )
    return create_job(session, preview_request, caller=caller, parent=job)


def _new_job(
    spec: ModelSpec,
    canonical: dict[str, Any],
    *,
    owner: str,
    source: Source,
    priority: int,
    idempotency_key: str | None,
    digest: str,
    plan: cache.CachePlan,
    now: datetime,
) -> Job:
    job = Job(
        id=uuid.uuid4(),
        owner=owner,
        model=spec.id,
        kind=spec.kind,
        provider=spec.provider,
        input=canonical,
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
    cost.set_estimate(job, spec)
    return job


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
    plan = cache.plan_for(
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
    # Leading first writes nothing when another job leads: entries hold job ids, not keys.
    if not cache.lead_for_prewarm(session, job, plan, now):
        return None
    _queue(session, job)
    session.flush()
    return job


def _queue(session: Session, job: Job) -> None:
    session.add(job)
    transition(
        session,
        job,
        status=JobStatus.QUEUED,
        event="queued",
        payload={"model": job.model, "priority": job.priority},
        at=job.created_at,
    )


def _same_request(existing: Job, digest: str) -> Job:
    if existing.request_hash != digest:
        raise Conflict(
            f"idempotency_key {existing.idempotency_key!r} was used for a different request "
            f"(job {existing.id}); use a new key for a new request"
        )
    return existing
