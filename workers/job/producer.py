"""The one way in: validate a request, commit its job, then send its task.

What a backend service imports to enqueue without HTTP, and what the API calls.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from workers.db.engine import session_scope
from workers.errors import Conflict
from workers.job import messages, repository
from workers.job.schemas import JobCreate
from workers.job.state import attempt, intake
from workers.job.state.attempt import Canceled
from workers.key.caller import ANONYMOUS, Caller


@dataclass(frozen=True)
class Accepted:
    id: uuid.UUID
    status: str
    created: bool  # False: an idempotency key returned an existing job
    cache_hit: bool = False  # answered from the result cache: succeeded, `result` set
    result: dict[str, Any] | None = None


def submit(request: JobCreate, *, caller: Caller = ANONYMOUS) -> Accepted:
    """Accept a generation job for `caller` (its owner owns the job; its key's limits
    apply). Raises `InvalidInput`, `Conflict`, `TooManyInFlight` or `OverBudget` having
    written nothing.

    The job row is committed before its task is sent, so a worker always finds it. If the
    broker refuses the message, the job stays queued and marked unsent, and the sweeper
    sends it later: an accepted job is never dropped (`workers.job.messages`). A cache hit,
    or a job joined to an identical one in flight, sends no task.
    """
    with session_scope() as session:
        outcome = intake.create_job(session, request, caller=caller)
        job = outcome.job
        for made in (outcome, outcome.preview):
            if made is not None and made.needs_task:
                messages.generate_after_commit(session, made.job.id, made.job.priority)
        accepted = Accepted(
            id=job.id,
            status=job.status,
            created=outcome.created,
            cache_hit=job.cache_hit,
            result=job.result,
        )
    return accepted


def cancel(job_id: uuid.UUID, *, owner: str | None = None) -> Canceled:
    """Cancel a queued or running job; the provider is told after the cancel commits. Its
    preview job, if still running, is canceled next (in a transaction of its own: a job
    ending locks itself, then its parent, so the two locks are never taken the other way).

    Raises `NotFound`, or `Conflict` when the job already finished.
    """
    with session_scope() as session:
        canceled = attempt.cancel(session, job_id, owner=owner)
        if canceled.cancel_at_provider:
            messages.cancel_remote_after_commit(session, job_id)
        previews = repository.previews_in_flight(session, job_id)
    for preview_id in previews:
        try:
            cancel(preview_id, owner=owner)
        except Conflict:
            pass  # it ended meanwhile
    return canceled
