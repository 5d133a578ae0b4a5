"""An attempt's life on a worker: start it, keep its lease, record its phases, end it.

Functions flush; whoever started the work commits. Status moves go through
`transitions.transition`, phase rows through `phases`.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.util import identity_key

from workers.db.base import utcnow
from workers.errors import Conflict, NotFound
from workers.job import repository
from workers.job.models import Job, Phase
from workers.job.state import phases
from workers.job.state.events import append_event
from workers.job.state.transitions import transition
from workers.job.status import JobStatus, SubmitState
from workers.provider_health.circuit import Wait, open_wait

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Attempt:
    """A snapshot of a started attempt, safe to use after its session closes."""

    job_id: uuid.UUID
    model: str
    input: dict[str, Any]
    number: int  # the job's `attempts` when this one started
    started_at: datetime
    submit_state: SubmitState | None = None  # hosted jobs: how far the submission got
    # Hosted jobs: this attempt committed its intent to submit (`hosted.record_intent`),
    # and when an earlier attempt had committed one and got no further.
    intent_committed: bool = False
    earlier_intent_at: datetime | None = None

    @property
    def past_submission(self) -> bool:
        """An earlier attempt got the request to the provider: it must not be sent again."""
        return self.submit_state in (SubmitState.SUBMITTED, SubmitState.COMPLETED)


def wait_before_submit(session: Session, provider: str, *, limit: int) -> Wait | None:
    """Why a new job of `provider` must wait, and for how long; None to go ahead.

    The concurrency count is read without a lock: several workers deciding at once may
    overshoot the limit by at most their number, which is the price of not serialising
    every submission on one row.
    """
    wait = open_wait(session, provider)
    if wait is not None:
        return wait
    if repository.in_flight(session, provider) >= limit:
        return Wait(2.0, "concurrency_limit")
    return None


def start(
    session: Session, job_id: uuid.UUID, *, lease_s: float, provider_limit: int | None = None
) -> Attempt | Wait | None:
    """Move a queued job (or a running one whose worker's lease expired) to running.

    Returns None, changing nothing, when the job is missing, finished, or held by a live
    worker: a duplicate delivery is harmless. With `provider_limit`, a hosted job not yet
    submitted is left queued when its provider's circuit is open or its limit is reached,
    and the `Wait` says for how long. Records the attempt's `queue_wait` phase.
    """
    job = repository.get_for_update(session, job_id)
    if job is None:
        log.warning("job.start_missing job_id=%s", job_id)
        return None
    now = utcnow()
    status = job.job_status
    lost = status is JobStatus.RUNNING and job.lease_expires_at and job.lease_expires_at < now
    if not lost and status is not JobStatus.QUEUED:
        log.info("job.start_skipped job_id=%s status=%s", job.id, status)
        return None
    if provider_limit is not None and job.provider != "local" and job.submit_state is None:
        wait = wait_before_submit(session, job.provider, limit=provider_limit)
        if wait is not None:
            return wait
    if lost:
        log.warning("job.lease_expired job_id=%s attempt=%s", job.id, job.attempts)
        waited_from = job.lease_expires_at  # the new attempt waited from the expiry on
        # The lost attempt ends here; a new one starts below.
        transition(
            session,
            job,
            status=JobStatus.QUEUED,
            event="requeued",
            payload={"reason": "worker_lost"},
        )
        job.enqueued_at = waited_from
    waited_from = job.enqueued_at or job.created_at
    job.attempts += 1
    job.started_at = now
    transition(
        session, job, status=JobStatus.RUNNING, event="running", payload={"attempt": job.attempts}
    )
    job.lease_expires_at = now + timedelta(seconds=lease_s)
    job.resend_at = None  # its message is answered; a lapsed lease is the sweeper's cue now
    wait_ms = max(0.0, (now - waited_from).total_seconds() * 1000)
    phases.record(session, job, Phase.QUEUE_WAIT, waited_from, wait_ms)
    return Attempt(job.id, job.model, dict(job.input), job.attempts, now, job.submit_stage)


def locked_current(session: Session, attempt: Attempt) -> Job | None:
    """The attempt's job row, locked; None when the attempt is no longer current."""
    return _if_current(repository.get_for_update(session, attempt.job_id), attempt)


def claimed(session: Session, attempt: Attempt) -> Job | None:
    """The attempt's job row as `start` locked it earlier in this same transaction.

    No second locking read (and no flush before it): in the claim's transaction the row is
    already locked and in the session. Anywhere else it is `locked_current`.
    """
    job = session.identity_map.get(identity_key(Job, attempt.job_id))
    if not isinstance(job, Job):
        return locked_current(session, attempt)
    return _if_current(job, attempt)


def _if_current(job: Job | None, attempt: Attempt) -> Job | None:
    """`job` while `attempt` is still its current one (running, same attempt number)."""
    if job is None or job.job_status is not JobStatus.RUNNING or job.attempts != attempt.number:
        return None
    return job


def renew_lease(session: Session, attempt: Attempt, *, lease_s: float) -> bool:
    """Extend a live attempt's lease; False when the attempt is no longer current.

    One conditional UPDATE, no row held: the heartbeat must never wait on the worker.
    """
    result = session.execute(
        update(Job)
        .where(
            Job.id == attempt.job_id,
            Job.status == JobStatus.RUNNING,
            Job.attempts == attempt.number,
            Job.lease_expires_at.is_not(None),
        )
        .values(lease_expires_at=utcnow() + timedelta(seconds=lease_s))
    )
    return bool(result.rowcount)  # type: ignore[attr-defined]


def record_phase(
    session: Session,
    attempt: Attempt,
    phase: Phase,
    started_at: datetime,
    duration_ms: float,
    *,
    lease_s: float,
) -> bool:
    """Record a finished phase and renew the lease; False if the attempt is no longer ours."""
    job = locked_current(session, attempt)
    if job is None:
        return False
    phases.record(session, job, phase, started_at, duration_ms)
    job.lease_expires_at = utcnow() + timedelta(seconds=lease_s)
    return True


def record_preview(session: Session, attempt: Attempt, frame_url: str) -> bool:
    """Log an early frame of the attempt's output; False if the attempt is no longer ours."""
    job = locked_current(session, attempt)
    if job is None:
        return False
    append_event(session, job, "preview", {"frame_url": frame_url, "source": "first_frame"})
    return True


def succeed(
    session: Session,
    attempt: Attempt,
    *,
    result: dict[str, Any],
    last_phase: tuple[Phase, datetime, float],
    finished_at: datetime,
) -> bool:
    """Record the last phase and the result in one transaction: the job is done atomically."""
    job = locked_current(session, attempt)
    if job is None:
        return False
    phases.record(session, job, *last_phase)
    mark_succeeded(session, job, result=result, at=finished_at)
    return True


def mark_succeeded(session: Session, job: Job, *, result: dict[str, Any], at: datetime) -> None:
    """End a running job (locked) with its result."""
    job.result = result
    transition(
        session,
        job,
        status=JobStatus.SUCCEEDED,
        event="succeeded",
        payload={"result": result},
        at=at,
    )


def fail(session: Session, job_id: uuid.UUID, *, code: str, message: str) -> bool:
    """Fail a queued or running job with an error; a finished job is left as it is."""
    job = repository.get_for_update(session, job_id)
    if job is None or job.job_status.is_terminal:
        return False
    job.error_code = code
    job.error_message = message
    transition(
        session,
        job,
        status=JobStatus.FAILED,
        event="failed",
        payload={"code": code, "message": message},
    )
    return True


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
    job.error_code = "canceled"
    job.error_message = "canceled by request"
    transition(session, job, status=JobStatus.CANCELED, event="canceled", payload={"by": "request"})
    at_provider = job.provider_request_id is not None or job.submit_stage is SubmitState.INTENT
    return Canceled(job.id, job.status, cancel_at_provider=at_provider)


def requeue_for_retry(session: Session, attempt: Attempt, *, reason: str) -> bool:
    """Send a running attempt back to the queue after a transient error."""
    job = locked_current(session, attempt)
    if job is None:
        return False
    transition(
        session,
        job,
        status=JobStatus.QUEUED,
        event="retrying",
        payload={"attempt": job.attempts, "reason": reason},
    )
    job.enqueued_at = utcnow()  # the next attempt's queue wait starts now
    return True


def hand_back(session: Session, attempt: Attempt) -> Job | None:
    """Give a running attempt's job back to the queue (its worker is stopping): the attempt
    ends here with the phases it recorded, and the next worker starts a new one. None when
    the attempt is no longer current."""
    job = locked_current(session, attempt)
    if job is None:
        return None
    transition(
        session,
        job,
        status=JobStatus.QUEUED,
        event="requeued",
        payload={"attempt": job.attempts, "reason": "worker_stopping"},
    )
    job.enqueued_at = utcnow()  # the next attempt's queue wait starts now
    return job
