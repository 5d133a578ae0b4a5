"""Celery tasks of the job feature. Thin: load by id, call the runner or service, map errors."""

from __future__ import annotations

import logging
import random
import uuid
from datetime import timedelta

from celery import Task

from workers.celery_app import app
from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.errors import DomainError, RetryableProviderError
from workers.job import repository, service
from workers.job.dispatch import send_generate
from workers.job.runner import AttemptLost, claim_job, run_attempt
from workers.settings import get_settings

log = logging.getLogger(__name__)


def backoff_s(attempt: int, retry_after_s: float | None) -> float:
    """Exponential backoff with full jitter, never sooner than the provider asked."""
    ceiling = min(60.0, 2.0**attempt)
    return max(retry_after_s or 0.0, random.uniform(0.5, 1.0) * ceiling)


@app.task(name="job.generate", bind=True)
def generate(self: Task, job_id: str) -> None:
    """Run one job to a terminal state.

    Safe to deliver twice: a job that is finished, or held by a live worker, is left alone.
    Transient provider errors are retried with backoff up to `MAX_RETRIES`; anything else
    fails the job with its error code and message, and never raises out of the task.
    """
    claim = claim_job(uuid.UUID(job_id))
    if claim is None:
        return
    try:
        run_attempt(claim)
    except AttemptLost:
        log.info("job.attempt_lost job_id=%s attempt=%s", job_id, claim.attempt)
    except RetryableProviderError as exc:
        if claim.attempt > get_settings().max_retries:
            _fail(claim.job_id, exc.code, f"gave up after {claim.attempt} attempts: {exc}")
            return
        with session_scope() as session:
            requeued = service.requeue_for_retry(session, claim, reason=exc.code)
        if requeued:
            delay = backoff_s(claim.attempt, exc.retry_after_s)
            log.warning("job.retrying job_id=%s in_s=%.1f reason=%s", job_id, delay, exc.code)
            raise self.retry(countdown=delay, max_retries=None) from exc
    except DomainError as exc:
        _fail(claim.job_id, exc.code, str(exc))
    except Exception as exc:  # the job must end failed, never silently dropped
        log.exception("job.crashed job_id=%s", job_id)
        _fail(claim.job_id, "internal_error", f"{type(exc).__name__}: {exc}")


def _fail(job_id: uuid.UUID, code: str, message: str) -> None:
    with session_scope() as session:
        service.fail(session, job_id, code=code, message=message)
    log.warning("job.failed job_id=%s code=%s", job_id, code)


@app.task(name="job.sweep")
def sweep() -> int:
    """Re-send jobs whose message is missing: never sent, or whose worker stopped checking in.

    Safe to run anywhere, any number of times: a duplicate message finds its job claimed.
    """
    settings = get_settings()
    now = utcnow()
    with session_scope() as session:
        job_ids = repository.needing_dispatch(
            session,
            unsent_before=now - timedelta(seconds=settings.unsent_job_grace_s),
            lease_expired_before=now,
            limit=500,
        )
    for job_id, priority in job_ids:
        send_generate(job_id, priority)
        with session_scope() as session:
            service.mark_resent(session, job_id)
    if job_ids:
        log.warning("job.swept count=%s", len(job_ids))
    return len(job_ids)
