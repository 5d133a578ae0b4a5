"""Celery tasks of the job feature. Thin: start by id, call one `run` module, map errors."""

from __future__ import annotations

import logging
import random
import uuid

from celery import Task

from workers.catalog.registry import get_model
from workers.celery_app import app
from workers.db.engine import session_scope
from workers.errors import DomainError, ProviderError, RetryableProviderError
from workers.job import repository
from workers.job.run import AttemptLost, sweeper
from workers.job.run.finalize import finalize_hosted
from workers.job.run.heartbeat import Heartbeat
from workers.job.run.local import run_local
from workers.job.run.submit import submit_hosted
from workers.job.state import attempt as attempt_state
from workers.job.state import hosted
from workers.job.state.attempt import Attempt
from workers.provider.registry import adapter_for
from workers.provider_health.circuit import Wait
from workers.provider_health.outcomes import record_outcome
from workers.settings import get_settings

log = logging.getLogger(__name__)


def backoff_s(attempt: int, retry_after_s: float | None) -> float:
    """Exponential backoff with full jitter, never sooner than the provider asked.

    Capped at 60 s: a countdown must stay far below the Redis visibility timeout.
    """
    ceiling = min(60.0, 2.0**attempt)
    return min(60.0, max(retry_after_s or 0.0, random.uniform(0.5, 1.0) * ceiling))


@app.task(name="job.generate", bind=True)
def generate(self: Task, job_id: str) -> None:
    """Run one job: locally to the end, or at a hosted provider up to its submission.

    Safe to deliver twice: a job that is finished, or held by a live worker, is left alone.
    Transient provider errors are retried with backoff up to `MAX_RETRIES`; anything else
    fails the job with its error code and message, and never raises out of the task.
    """
    started = _start(uuid.UUID(job_id))
    if isinstance(started, Wait):
        # Not started: the job stays queued (its queue_wait grows) until the provider can
        # take it. The countdown stays far below the broker's visibility timeout.
        log.info("job.waiting_for_provider job_id=%s reason=%s", job_id, started.reason)
        raise self.retry(countdown=min(max(started.seconds, 0.5), 30.0), max_retries=None)
    if started is None:
        return
    attempt = started
    provider = get_model(attempt.model).provider
    try:
        with Heartbeat(attempt, lease_s=get_settings().job_lease_s):
            if provider == "local":
                run_local(attempt)
            else:
                submit_hosted(attempt)
        if provider != "local":
            record_outcome(provider, None)
    except AttemptLost:
        log.info("job.attempt_lost job_id=%s attempt=%s", job_id, attempt.number)
    except RetryableProviderError as exc:
        record_outcome(provider, exc)
        if attempt.number > get_settings().max_retries:
            _fail(attempt.job_id, exc.code, f"gave up after {attempt.number} attempts: {exc}")
            return
        with session_scope() as session:
            requeued = attempt_state.requeue_for_retry(session, attempt, reason=exc.code)
        if requeued:
            delay = backoff_s(attempt.number, exc.retry_after_s)
            log.warning("job.retrying job_id=%s in_s=%.1f reason=%s", job_id, delay, exc.code)
            raise self.retry(countdown=delay, max_retries=None) from exc
    except DomainError as exc:
        _fail(attempt.job_id, exc.code, str(exc))
    except Exception as exc:  # the job must end failed, never silently dropped
        log.exception("job.crashed job_id=%s", job_id)
        _fail(attempt.job_id, "internal_error", f"{type(exc).__name__}: {exc}")


def _start(job_id: uuid.UUID) -> Attempt | Wait | None:
    settings = get_settings()
    with session_scope() as session:
        return attempt_state.start(
            session,
            job_id,
            lease_s=settings.job_lease_s,
            provider_limit=settings.provider_concurrency,
        )


@app.task(name="job.finalize", bind=True)
def finalize(self: Task, job_id: str) -> None:
    """Fetch a finished hosted job's output, post-process and store it.

    Retried with backoff on transient errors (the provider keeps results for about an
    hour, so we fetch at once); a duplicate delivery while a worker holds the job is a no-op.
    """
    try:
        finalize_hosted(uuid.UUID(job_id))
    except AttemptLost:
        log.info("job.finalize_lost job_id=%s", job_id)
    except RetryableProviderError as exc:
        with session_scope() as session:
            hosted.release_finalize(session, uuid.UUID(job_id))
            job = repository.get(session, uuid.UUID(job_id))
        if job is not None:
            record_outcome(job.provider, exc)
        if self.request.retries >= get_settings().max_retries:
            _fail(uuid.UUID(job_id), exc.code, f"could not fetch the result: {exc}")
            return
        raise self.retry(
            countdown=backoff_s(self.request.retries + 1, exc.retry_after_s), max_retries=None
        ) from exc
    except DomainError as exc:
        _fail(uuid.UUID(job_id), exc.code, str(exc))
    except Exception as exc:
        log.exception("job.finalize_crashed job_id=%s", job_id)
        _fail(uuid.UUID(job_id), "internal_error", f"{type(exc).__name__}: {exc}")


@app.task(name="job.cancel_remote", bind=True)
def cancel_remote(self: Task, job_id: str) -> None:
    """Ask the provider to stop a canceled job's request. Best effort: transient errors are
    retried a few times, a provider that cannot cancel is logged and left."""
    with session_scope() as session:
        job = repository.get(session, uuid.UUID(job_id))
        submission = hosted.submission_of(session, uuid.UUID(job_id))
    if job is None or submission is None:
        return  # never submitted, or the submitter will see the cancel and stop it itself
    spec = get_model(job.model)
    try:
        adapter_for(spec.provider).cancel(spec.provider_model, submission)
    except RetryableProviderError as exc:
        if self.request.retries < 3:
            raise self.retry(countdown=backoff_s(self.request.retries + 1, None)) from exc
        log.warning("job.cancel_remote_gave_up job_id=%s reason=%s", job_id, exc.code)
    except ProviderError as exc:
        log.warning("job.cancel_remote_refused job_id=%s reason=%s", job_id, exc.code)


def _fail(job_id: uuid.UUID, code: str, message: str) -> None:
    with session_scope() as session:
        attempt_state.fail(session, job_id, code=code, message=message)
    log.warning("job.failed job_id=%s code=%s", job_id, code)


@app.task(name="job.sweep")
def sweep() -> int:
    """Re-send jobs whose message is missing (see `workers.job.run.sweeper`). Beat runs it
    every `SWEEP_INTERVAL_S`; safe to run anywhere, any number of times."""
    return sweeper.sweep()
