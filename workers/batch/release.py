"""Releasing a batch's items as jobs, at most `BATCH_WINDOW` of them in flight at once, and
noticing when the batch has ended.

Called inside the transaction that creates the batch, and inside the one where one of its
jobs ends (`workers.job.state.ended`); the batch's row lock makes two endings release in
turn, never the same item twice. A released item that is answered at once (a cache hit)
takes no room, so the next one is released in the same pass.

A batch ends in the transaction where its last job ends (succeeded, failed, or canceled,
by itself or by the batch's cancel), or in the one that creates it when every item is
answered from the cache. `if_ended` is called in both, under the batch's row lock, so
exactly one transaction sees the end and enqueues the batch's `completed` webhook. A
cancel that marks waiting items needs no call of its own: while items wait, `release`
keeps some of the batch's jobs in flight, and the last of them to be canceled ends it.
"""

from __future__ import annotations

import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workers.batch.models import Batch, BatchItem
from workers.job import messages
from workers.job.models import Job
from workers.job.schemas import JobCreate
from workers.job.status import JobStatus
from workers.key.caller import Caller
from workers.settings import get_settings
from workers.webhook import enqueue as webhooks

_IN_FLIGHT = (JobStatus.QUEUED, JobStatus.RUNNING)


def release(session: Session, batch: Batch) -> None:
    """Release pending items until the batch has `BATCH_WINDOW` jobs in flight; the caller
    holds the batch row."""
    if batch.canceled_at is not None:
        return
    room = get_settings().batch_window - _in_flight(session, batch.id)
    # Imported here: intake → transitions → ended → this module, at import time.
    from workers.job.state import intake

    caller = Caller(owner=batch.owner, key_id=batch.key_id)
    while room > 0:
        item = session.scalars(
            select(BatchItem)
            .where(
                BatchItem.batch_id == batch.id,
                BatchItem.job_id.is_(None),
                BatchItem.canceled.is_(False),
            )
            .order_by(BatchItem.index)
            .limit(1)
        ).first()
        if item is None:
            return
        made = intake.create_job(
            session, JobCreate.model_validate(item.request), caller=caller, admitted=True
        )
        made.job.batch_id = batch.id
        item.job_id = made.job.id
        for created in (made, made.preview):
            if created is not None and created.needs_task:
                messages.generate_after_commit(session, created.job.id, created.job.priority)
        if not made.job.job_status.is_terminal:
            room -= 1


def after_item_ended(session: Session, job: Job) -> None:
    """A batch's job ended: release the next item (called by `job_ended`)."""
    if job.batch_id is None:
        return
    batch = session.scalars(
        select(Batch).where(Batch.id == job.batch_id).with_for_update()
    ).one_or_none()
    if batch is not None:
        release(session, batch)
        if_ended(session, batch)


def if_ended(session: Session, batch: Batch) -> None:
    """If every item of the batch has ended (or was canceled unreleased), react to its end:
    its `completed` webhook (`webhook.enqueue.on_batch_ended`, which sends it once). The
    caller holds the batch row."""
    if batch.webhook_url is None:
        return  # nothing reacts to a batch's end but its webhook
    waiting = session.scalar(
        select(func.count())
        .select_from(BatchItem)
        .where(
            BatchItem.batch_id == batch.id,
            BatchItem.job_id.is_(None),
            BatchItem.canceled.is_(False),
        )
    )
    if not waiting and not _in_flight(session, batch.id):
        webhooks.on_batch_ended(session, batch)


def _in_flight(session: Session, batch_id: uuid.UUID) -> int:
    return int(
        session.scalar(
            select(func.count())
            .select_from(Job)
            .where(Job.batch_id == batch_id, Job.status.in_(_IN_FLIGHT))
        )
        or 0
    )
