"""The one writer of a job's `status` and `submit_state`: `transition()`.

Every move is checked against the tables below, appends the job's event, and releases the
leases a move ends. A move to a terminal status then calls `ended.job_ended()`, the one
place that reacts to a job finishing. A test fails if either field is assigned anywhere
else in `workers/`.

status (`JobStatus`):

    (new) ──► queued ──────► running ──────► succeeded
      │         │ ▲             │ │ │
      │         │ └── retry ────┘ │ └──────► failed
      │         │   (transient    └────────► canceled
      │         │    error, or worker lost)
      │         ├──────────────────────────► succeeded   a joined job whose leader
      │         │                                        succeeded; a cache hit found
      │         │                                        while the job was being added
      │         ├──────────────────────────► failed      cannot start; its leader failed
      │         └──────────────────────────► canceled
      └────────────────────────────────────► succeeded   a cache hit found at submission:
                                                         born answered, no queue, no task

submit_state (`SubmitState`, hosted attempts only; it survives retries and takeovers, so a
new attempt knows how far the last one got):

    (none) ──► intent ──► submitted ──► completed
            committed     provider's      provider finished:
            before the    request id      finalize fetches
            provider      stored: the     and stores the
            is called     poller follows  output
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy.orm import Session

from workers.db.base import utcnow
from workers.errors import InvalidTransition
from workers.job.models import Job
from workers.job.state import ended  # a module import: ended → cache → transitions
from workers.job.state.events import append_event
from workers.job.status import JobStatus, SubmitState

_Q, _R = JobStatus.QUEUED, JobStatus.RUNNING
_S, _F, _C = JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED

STATUS_MOVES: dict[JobStatus | None, frozenset[JobStatus]] = {
    None: frozenset({_Q, _S}),
    _Q: frozenset({_R, _S, _F, _C}),
    _R: frozenset({_S, _F, _C, _Q}),
    _S: frozenset(),
    _F: frozenset(),
    _C: frozenset(),
}

SUBMIT_MOVES: dict[SubmitState | None, frozenset[SubmitState]] = {
    None: frozenset({SubmitState.INTENT}),
    SubmitState.INTENT: frozenset({SubmitState.SUBMITTED}),
    SubmitState.SUBMITTED: frozenset({SubmitState.COMPLETED}),
    SubmitState.COMPLETED: frozenset(),
}


def transition(
    session: Session,
    job: Job,
    *,
    status: JobStatus | None = None,
    submit: SubmitState | None = None,
    event: str,
    payload: dict[str, Any],
    at: datetime | None = None,
) -> None:
    """Move `job` (new, or locked by the caller) and log `event` with `payload`.

    Set a result or an error on the row before a terminal move: `job_ended` reads them.
    `at` is when the move happened (default now): a terminal move's `finished_at`, an
    intent's `intent_at`. Raises `InvalidTransition` for a move the tables forbid.
    """
    if status is None and submit is None:
        raise ValueError("a transition moves the status, the submission, or both")
    at = at or utcnow()
    current = JobStatus(job.status) if job.status is not None else None
    if status is not None:
        _check(STATUS_MOVES, current, status, "job")
    if submit is not None:
        _check(SUBMIT_MOVES, job.submit_stage, submit, "submission")
        job.submit_state = submit
        if submit is SubmitState.INTENT:
            job.intent_at = at
        if submit is SubmitState.SUBMITTED:
            job.lease_expires_at = None  # no worker holds the job while the provider works
        if submit is SubmitState.COMPLETED:
            job.next_poll_at = None
    if status is not None:
        job.status = status
        if current is JobStatus.RUNNING:  # the attempt ends: nobody holds the job any more
            job.lease_expires_at = None
            job.next_poll_at = None
            job.poll_lease_until = None
        if status.is_terminal:
            job.finished_at = at
    append_event(session, job, event, payload)
    if status is not None and status.is_terminal:
        ended.job_ended(session, job)


def _check(
    moves: dict[Any, frozenset[Any]], current: StrEnum | None, target: StrEnum, what: str
) -> None:
    if target not in moves[current]:
        raise InvalidTransition(f"a {what} that is {current or 'new'} cannot become {target}")
