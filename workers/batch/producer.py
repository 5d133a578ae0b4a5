"""The way in for batches: submit and cancel, each owning its transactions."""

from __future__ import annotations

import uuid

from workers.batch import service
from workers.batch.models import Batch
from workers.batch.schemas import BatchCreate
from workers.db.engine import session_scope
from workers.errors import Conflict
from workers.job import producer as jobs
from workers.key.caller import Caller


def submit(request: BatchCreate, *, caller: Caller) -> tuple[uuid.UUID, bool]:
    """Accept a batch (all items or none); its first items' tasks go after the commit.
    Returns the batch id, and False when an idempotency key returned an existing one."""
    with session_scope() as session:
        created = service.create(session, request, caller=caller)
        return created.batch.id, created.created


def cancel(batch_id: uuid.UUID, *, owner: str) -> Batch:
    with session_scope() as session:
        released = service.mark_canceled(session, batch_id, owner=owner)
        batch = service.locked(session, batch_id, owner)
    for job_id in released:
        try:
            jobs.cancel(job_id, owner=owner)
        except Conflict:
            continue  # it had already ended
    return batch
