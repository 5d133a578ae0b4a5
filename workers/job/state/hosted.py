"""State changes of jobs that run at a hosted provider. Functions flush only.

A hosted attempt moves through `submit_state` (drawn in `transitions`): intent, submitted,
completed, then the job succeeds when finalize has stored the file.
Phases: model_loading runs from the start of the attempt to the first status that shows the
provider generating; generation to the status that shows it done; encoding and upload are
ours.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from workers.db.base import utcnow
from workers.job import repository
from workers.job.models import Job, Phase
from workers.job.state import phases
from workers.job.state.attempt import Attempt, claimed, locked_current, mark_succeeded
from workers.job.state.events import append_event
from workers.job.state.transitions import transition
from workers.job.status import JobStatus, SubmitState
from workers.provider.base import RemoteState, RemoteStatus, Submission

MAX_LOG_LINES = 20


def record_intent(session: Session, attempt: Attempt) -> Attempt | None:
    """Record that we are about to submit, to be committed before the provider hears of it.

    Runs in the claim's transaction (`submit.start_hosted`), on the row the claim locked.
    Returns the attempt knowing when an earlier attempt committed its own intent and got
    no further (a crash between the provider accepting and our row recording it), or None
    when the attempt is no longer current.
    """
    job = claimed(session, attempt)
    if job is None:
        return None
    earlier = job.intent_at if job.submit_stage is SubmitState.INTENT else None
    payload = {"provider": job.provider}
    if job.submit_stage is SubmitState.INTENT:  # a retry keeps the first intent's time
        append_event(session, job, "submitting", payload)
    else:
        transition(session, job, submit=SubmitState.INTENT, event="submitting", payload=payload)
    return replace(
        attempt,
        submit_state=SubmitState.INTENT,
        intent_committed=True,
        earlier_intent_at=earlier,
    )


def request_id_taken(session: Session, request_id: str, *, by_other_than: uuid.UUID) -> bool:
    """Whether another job already owns this provider request (identical jobs at once)."""
    return (
        session.scalar(
            select(Job.id).where(Job.provider_request_id == request_id, Job.id != by_other_than)
        )
        is not None
    )


def record_submission(
    session: Session, attempt: Attempt, submission: Submission, *, first_poll_in_s: float
) -> bool:
    """Store the provider's request id; from here the poller owns the wait, not a worker."""
    job = locked_current(session, attempt)
    if job is None:
        return False
    if job.provider_request_id == submission.request_id:
        if not job.provider_handles:  # a callback got here first and adopted it
            job.provider_handles = dict(submission.handles)
        return True
    job.provider_request_id = submission.request_id
    job.provider_handles = dict(submission.handles)
    job.remote = {"state": RemoteState.QUEUED}
    transition(
        session,
        job,
        submit=SubmitState.SUBMITTED,
        event="submitted",
        payload={"request_id": submission.request_id},
    )
    job.next_poll_at = utcnow() + timedelta(seconds=first_poll_in_s)
    return True


@dataclass(frozen=True)
class PollTicket:
    job_id: uuid.UUID
    model: str
    provider: str
    attempt: int
    submission: Submission
    submitted_at: datetime | None
    remote_state: str | None = None  # what the provider said at the last check


@dataclass(frozen=True)
class Reschedule:
    """A check whose answer did not move its job: only its next check and the provider's
    latest view (logs, queue position) are written, with a round's others in one statement."""

    ticket: PollTicket
    remote: dict[str, Any]
    next_poll_at: datetime


def unchanged(
    ticket: PollTicket, status: RemoteStatus, *, next_poll_in_s: float
) -> Reschedule | None:
    """A Reschedule when the provider still says what it said last time (queued or
    running), else None: the answer moves the job (`apply_status`)."""
    if status.state not in (RemoteState.QUEUED, RemoteState.RUNNING):
        return None
    if ticket.remote_state != status.state:
        return None
    return Reschedule(ticket, _remote_view(status), utcnow() + timedelta(seconds=next_poll_in_s))


def take_due_polls(
    session: Session, *, now: datetime, limit: int, lease_s: float
) -> list[PollTicket]:
    """Take up to `limit` jobs whose next status check is due, for `lease_s` seconds.

    `SKIP LOCKED` lets several pollers (one per host) share the work without two of them
    checking the same job; the lease keeps it theirs after this transaction commits.
    """
    jobs = session.scalars(
        select(Job)
        .where(
            Job.submit_state == SubmitState.SUBMITTED,
            Job.status == JobStatus.RUNNING,
            Job.next_poll_at <= now,
            or_(Job.poll_lease_until.is_(None), Job.poll_lease_until < now),
        )
        .order_by(Job.next_poll_at)
        .limit(limit)
        .with_for_update(skip_locked=True)
    ).all()
    tickets = []
    for job in jobs:
        job.poll_lease_until = now + timedelta(seconds=lease_s)
        assert job.provider_request_id is not None
        tickets.append(
            PollTicket(
                job.id,
                job.model,
                job.provider,
                job.attempts,
                Submission(job.provider_request_id, dict(job.provider_handles or {})),
                job.started_at,
                (job.remote or {}).get("state"),
            )
        )
    return tickets


def reschedule_polls(session: Session, checks: list[Reschedule]) -> None:
    """Record a round's unchanged checks in one statement sent as one batch. A job that
    moved meanwhile (a callback finished it, it was canceled, a new attempt took it) no
    longer matches and is left alone."""
    if not checks:
        return
    statement = (
        update(Job)
        .where(
            Job.id == bindparam("b_id"),
            Job.attempts == bindparam("b_attempt"),
            Job.status == JobStatus.RUNNING,
            Job.submit_state == SubmitState.SUBMITTED,
        )
        .values(
            remote=bindparam("b_remote"),
            next_poll_at=bindparam("b_next"),
            poll_lease_until=None,
        )
    )
    # Through the connection: a plain executemany, not the ORM's bulk update by key.
    session.connection().execute(
        statement,
        [
            {
                "b_id": check.ticket.job_id,
                "b_attempt": check.ticket.attempt,
                "b_remote": check.remote,
                "b_next": check.next_poll_at,
            }
            for check in checks
        ],
    )


@dataclass(frozen=True)
class Advance:
    """What the poller does next for a job once this transaction commits."""

    finalize: bool = False  # send the finalize task
    changed: bool = False  # the answer moved the job (False: a stale or repeated one)


@dataclass(frozen=True)
class Move:
    """A check whose answer moves its job (started, finished, failed, canceled there)."""

    ticket: PollTicket
    status: RemoteStatus
    next_poll_in_s: float


def apply_moves(session: Session, moves: list[Move]) -> dict[uuid.UUID, Advance]:
    """Record a round's moving answers in one transaction: the jobs are locked in one
    statement and their changes flushed together. What each job does next, by id."""
    jobs = repository.lock_many(session, [move.ticket.job_id for move in moves])
    return {
        move.ticket.job_id: _apply(
            session, jobs.get(move.ticket.job_id), move.ticket, move.status, move.next_poll_in_s
        )
        for move in moves
    }


def apply_status(
    session: Session, ticket: PollTicket, status: RemoteStatus, *, next_poll_in_s: float
) -> Advance:
    """Record what the provider said and move the job on. Stale tickets change nothing."""
    job = repository.get_for_update(session, ticket.job_id)
    return _apply(session, job, ticket, status, next_poll_in_s)


def _apply(
    session: Session,
    job: Job | None,
    ticket: PollTicket,
    status: RemoteStatus,
    next_poll_in_s: float,
) -> Advance:
    """`apply_status` on a row the caller has locked (None: the job is gone)."""
    if (
        job is None
        or job.job_status is not JobStatus.RUNNING
        or job.attempts != ticket.attempt
        or job.submit_stage is not SubmitState.SUBMITTED
    ):
        return Advance()
    now = utcnow()
    previous = (job.remote or {}).get("state")
    job.remote = _remote_view(status)
    job.poll_lease_until = None
    if previous == RemoteState.QUEUED and status.state is not RemoteState.QUEUED:
        # The first sign of work ends model loading (the provider's queue and cold start).
        phases.record_until(session, job, Phase.MODEL_LOADING, now)
    if status.state is RemoteState.SUCCEEDED:
        transition(
            session, job, submit=SubmitState.COMPLETED, event="provider_status", payload=job.remote
        )
        phases.record_until(session, job, Phase.GENERATION, now)
        return Advance(finalize=True, changed=True)
    if previous != status.state:
        append_event(session, job, "provider_status", job.remote)
    if status.state is RemoteState.FAILED:
        _end(
            session,
            job,
            JobStatus.FAILED,
            status.error_code or "provider_failed",
            status.error_message or "the provider reported a failure",
        )
        return Advance(changed=True)
    if status.state is RemoteState.CANCELED:
        _end(
            session,
            job,
            JobStatus.CANCELED,
            "canceled_at_provider",
            "the provider canceled the request",
        )
        return Advance(changed=True)
    job.next_poll_at = now + timedelta(seconds=next_poll_in_s)
    return Advance(changed=True)


ENDED = frozenset({RemoteState.SUCCEEDED, RemoteState.FAILED, RemoteState.CANCELED})


def apply_callback(
    session: Session, job_id: uuid.UUID, *, provider: str, request_id: str, status: RemoteStatus
) -> Advance:
    """A provider's verified callback: the job moves on as a poll with this answer would.

    A callback for a request we never recorded, on a job still at `intent` (the worker died
    between the provider accepting and our commit), is adopted first: the request id is
    stored and the job is `submitted`, so no takeover submits it again. A callback for any
    other request, an unfinished state, or a job already past it changes nothing.
    """
    job = repository.get_for_update(session, job_id)
    if (
        job is None
        or job.provider != provider
        or job.job_status is not JobStatus.RUNNING
        or status.state not in ENDED
    ):
        return Advance()
    if job.submit_stage is SubmitState.INTENT and job.provider_request_id is None:
        if request_id_taken(session, request_id, by_other_than=job.id):
            return Advance()
        job.provider_request_id = request_id
        job.remote = {"state": RemoteState.QUEUED}
        transition(
            session,
            job,
            submit=SubmitState.SUBMITTED,
            event="submitted",
            payload={"request_id": request_id, "adopted": True},
        )
    if job.submit_stage is not SubmitState.SUBMITTED or job.provider_request_id != request_id:
        return Advance()
    ticket = PollTicket(
        job.id,
        job.model,
        job.provider,
        job.attempts,
        Submission(request_id, dict(job.provider_handles or {})),
        job.started_at,
    )
    return apply_status(session, ticket, status, next_poll_in_s=0.0)


def start_finalize(session: Session, job_id: uuid.UUID, *, lease_s: float) -> Attempt | None:
    """Take a job whose provider finished, to fetch and store its output. A duplicate
    delivery while another worker holds it (live lease) changes nothing."""
    job = repository.get_for_update(session, job_id)
    now = utcnow()
    if (
        job is None
        or job.job_status is not JobStatus.RUNNING
        or job.submit_stage is not SubmitState.COMPLETED
        or (job.lease_expires_at is not None and job.lease_expires_at > now)
    ):
        return None
    job.lease_expires_at = now + timedelta(seconds=lease_s)
    assert job.started_at is not None
    return Attempt(
        job.id, job.model, dict(job.input), job.attempts, job.started_at, SubmitState.COMPLETED
    )


def resume_waiting(session: Session, attempt: Attempt, *, first_poll_in_s: float) -> bool:
    """Hand a taken-over job back to the poller (or to finalize) without submitting again."""
    job = locked_current(session, attempt)
    if job is None:
        return False
    job.lease_expires_at = None
    if job.submit_stage is SubmitState.SUBMITTED:
        job.next_poll_at = utcnow() + timedelta(seconds=first_poll_in_s)
    append_event(session, job, "resumed", {"submit_state": job.submit_state})
    return True


def succeed_now(
    session: Session, attempt: Attempt, *, encoded_at: datetime, result: dict[str, Any]
) -> bool:
    """Record the encoding phase as ending at `encoded_at`, the upload phase as ending now,
    and the job as succeeded, in one transaction.

    One transaction rather than one per phase: a finalize is short, and each extra commit
    is several round trips on a busy host. An encoding phase the attempt has already (a
    finalize of an earlier release committed it on its own) is kept, not recorded twice.
    """
    job = locked_current(session, attempt)
    if job is None:
        return False
    if not phases.is_recorded(session, job, Phase.ENCODING):
        phases.record_until(session, job, Phase.ENCODING, encoded_at)
    now = utcnow()
    phases.record_until(session, job, Phase.UPLOAD, now)
    mark_succeeded(session, job, result=result, at=now)
    return True


def release_finalize(session: Session, job_id: uuid.UUID) -> None:
    """Let the next finalize delivery take the job at once (after a transient failure)."""
    job = repository.get_for_update(session, job_id)
    if job is not None and job.submit_stage is SubmitState.COMPLETED:
        job.lease_expires_at = None


def submission_of(session: Session, job_id: uuid.UUID) -> Submission | None:
    job = repository.get(session, job_id)
    if job is None or job.provider_request_id is None:
        return None
    return Submission(job.provider_request_id, dict(job.provider_handles or {}))


def postpone_poll(session: Session, ticket: PollTicket, *, in_s: float, reason: str) -> None:
    """A status check failed transiently: try again later, keeping the job as it is."""
    job = repository.get_for_update(session, ticket.job_id)
    if (
        job is None
        or job.submit_stage is not SubmitState.SUBMITTED
        or job.attempts != ticket.attempt
    ):
        return
    job.poll_lease_until = None
    job.next_poll_at = utcnow() + timedelta(seconds=in_s)
    job.remote = {**(job.remote or {}), "last_error": reason}


def _end(session: Session, job: Job, status: JobStatus, code: str, message: str) -> None:
    job.error_code = code
    job.error_message = message
    transition(
        session, job, status=status, event=status.value, payload={"code": code, "message": message}
    )


def _remote_view(status: RemoteStatus) -> dict[str, Any]:
    view: dict[str, Any] = {"state": status.state}
    if status.queue_position is not None:
        view["queue_position"] = status.queue_position
    if status.progress is not None:
        view["progress"] = status.progress
    if status.logs:
        view["logs"] = status.logs[-MAX_LOG_LINES:]
    return view
