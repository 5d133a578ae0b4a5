"""The one way in: validate a request, commit its job, then send its task.

What a backend service imports to enqueue without HTTP, and what the API calls.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import Any

from workers.db.engine import session_scope
from workers.job import service
from workers.job.dispatch import send_cancel_remote, send_generate
from workers.job.models import DEFAULT_OWNER
from workers.job.schemas import JobCreate

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Accepted:
    id: uuid.UUID
    status: str
    created: bool  # False: an idempotency key returned an existing job
    cache_hit: bool = False  # answered from the result cache: succeeded, `result` set
    result: dict[str, Any] | None = None


def submit(request: JobCreate, *, owner: str = DEFAULT_OWNER) -> Accepted:
    """Accept a generation job. Raises `InvalidInput` or `Conflict` having written nothing.

    The job row is committed before its task is sent, so a worker always finds it. If the
    broker refuses the message, the job stays queued and marked unsent, and the sweeper
    sends it later: an accepted job is never dropped. A cache hit, or a job joined to an
    identical one in flight, sends no task.
    """
    with session_scope() as session:
        outcome = service.create_job(session, request, owner=owner)
        job = outcome.job
        job_id, status, priority = job.id, job.status, job.priority
        cache_hit, result = job.cache_hit, job.result
    if outcome.needs_task:
        try:
            send_generate(job_id, priority)
        except Exception:
            log.exception("job.send_failed job_id=%s (the sweeper will re-send it)", job_id)
            with session_scope() as session:
                service.mark_unsent(session, job_id)
    return Accepted(
        id=job_id, status=status, created=outcome.created, cache_hit=cache_hit, result=result
    )


def cancel(job_id: uuid.UUID, *, owner: str | None = None) -> service.Canceled:
    """Cancel a queued or running job; the provider is told after the cancel commits.

    Raises `NotFound`, or `Conflict` when the job already finished.
    """
    with session_scope() as session:
        canceled = service.cancel(session, job_id, owner=owner)
    if canceled.cancel_at_provider:
        send_cancel_remote(job_id)
    return canceled
