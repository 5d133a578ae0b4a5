"""Celery tasks of the job feature. Thin: start by id, call one `run` module, map errors.

A database or broker that cannot be reached (`workers.db.outage.is_unavailable`) never
fails a job and never ends a task quietly: the task retries itself with backoff, so the
message that names the job is replaced before this one is acknowledged. If even that send
fails, the row still says what is due (`resend_at`, a lapsing lease) and the sweeper sends
it: a job is never dropped. An outage is logged once per worker process, not per task.
"""

from __future__ import annotations

import logging
import random
import uuid

from celery import Task
from celery.exceptions import Reject

from workers import shutdown
from workers.catalog.registry import get_model
from workers.celery_app import app
from workers.db.engine import session_scope
from workers.db.outage import Outage, is_unavailable
from workers.errors import DomainError, ProviderError, RetryableProviderError
from workers.job import messages, repository
from workers.job.run import AttemptLost, sweeper
from workers.job.run.finalize import finalize_hosted
from workers.job.run.heartbeat import Heartbeat
from workers.job.run.local import run_local
from workers.job.run.submit import start_hosted, submit_hosted
from workers.job.state import attempt as attempt_state
from workers.job.state import hosted
from workers.job.state.attempt import Attempt
from workers.provider.registry import adapter_for
from workers.provider_health.circuit import Wait
from workers.provider_health.outcomes import record_outcome
from workers.settings import get_settings
from workers.shutdown import ShuttingDown

log = logging.getLogger(__name__)

OUTAGE = Outage("database")  # one per worker process


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
    fails the job with its error code and message, and never raises out of the task. A
    database outage retries the task (see the module's docstring).
    """
    if shutdown.requested.is_set():
        # A stopping worker can still receive a message, even the one of the job it has
        # just handed back: nothing is claimed, and the message goes back to the broker.
        raise Reject("this worker is stopping", requeue=True)
    try:
        started = _start(uuid.UUID(job_id))
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        # Nothing was claimed: the job is still queued. Try again once it may be back.
        raise _retry_in_outage(self, exc, backoff_s(self.request.retries + 1, None)) from exc
    OUTAGE.recovered()
    if isinstance(started, Wait):
        # Not started: the job stays queued (its queue_wait grows) until the provider can
        # take it. The countdown stays far below the broker's visibility timeout.
        log.info("job.waiting_for_provider job_id=%s reason=%s", job_id, started.reason)
        raise self.retry(countdown=_wait_countdown(started), max_retries=None)
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
    except ShuttingDown:
        _hand_back(attempt)
    except RetryableProviderError as exc:
        record_outcome(provider, exc)
        if attempt.number > get_settings().max_retries:
            _fail(attempt.job_id, exc.code, f"gave up after {attempt.number} attempts: {exc}")
            return
        delay = backoff_s(attempt.number, exc.retry_after_s)
        with session_scope() as session:
            requeued = attempt_state.requeue_for_retry(session, attempt, reason=exc.code)
            if requeued:
                messages.note_sent(session, attempt.job_id, countdown_s=delay)
        if requeued:
            log.warning("job.retrying job_id=%s in_s=%.1f reason=%s", job_id, delay, exc.code)
            raise self.retry(countdown=delay, max_retries=None) from exc
    except DomainError as exc:
        _fail(attempt.job_id, exc.code, str(exc))
    except Exception as exc:  # the job must end failed, never silently dropped
        if is_unavailable(exc):
            # The attempt cannot record anything: it stops here, its lease lapses, and the
            # retry (or the sweeper) takes the job over as a new attempt.
            raise _retry_in_outage(self, exc, get_settings().job_lease_s + 1.0) from exc
        log.exception("job.crashed job_id=%s", job_id)
        _fail(attempt.job_id, "internal_error", f"{type(exc).__name__}: {exc}")


def _hand_back(attempt: Attempt) -> None:
    """This worker is stopping: the job goes back to the queue, sent again after commit."""
    with session_scope() as session:
        job = attempt_state.hand_back(session, attempt)
        if job is not None:
            messages.generate_after_commit(session, job.id, job.priority)
    log.warning("job.handed_back job_id=%s attempt=%s", attempt.job_id, attempt.number)


def _wait_countdown(wait: Wait) -> float:
    return min(max(wait.seconds, 0.5), 30.0)


def _start(job_id: uuid.UUID) -> Attempt | Wait | None:
    settings = get_settings()
    with session_scope() as session:
        started = attempt_state.start(
            session,
            job_id,
            lease_s=settings.job_lease_s,
            provider_limit=settings.provider_concurrency,
        )
        if isinstance(started, Wait):
            # The retry below is this job's message now: it is not lost while it waits.
            messages.note_sent(session, job_id, countdown_s=_wait_countdown(started))
        elif started is not None and get_model(started.model).provider != "local":
            return start_hosted(session, started)
        return started


def _retry_in_outage(task: Task, exc: BaseException, countdown: float) -> BaseException:
    """The retry that replaces this message while the database is away (logged once)."""
    OUTAGE.failed(exc)
    retry: BaseException = task.retry(countdown=min(countdown, 60.0), max_retries=None)
    return retry


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
        if is_unavailable(exc):
            # Whatever finalize held lapses (its lease); the retry or the sweeper takes it.
            raise _retry_in_outage(self, exc, get_settings().job_lease_s + 1.0) from exc
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
    every `SWEEP_INTERVAL_S`; safe to run anywhere, any number of times. While the database
    is away a sweep does nothing (the next one comes soon) and the outage is logged once."""
    try:
        sent = sweeper.sweep()
    except Exception as exc:
        if not is_unavailable(exc):
            raise
        OUTAGE.failed(exc)
        return 0
    OUTAGE.recovered()
    return sent
