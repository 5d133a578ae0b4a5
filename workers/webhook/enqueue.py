"""A job's or a batch's events become delivery rows here, inside the transaction the event
happens in; each delivery's message is sent after that transaction commits
(`workers.job.messages`).

Called explicitly from the places events come from: `job_ended()` for a job's `completed`
(every terminal status), `append_event()` for `started` (the first `running`), `progress`
(a phase ended; at most one per job per `WEBHOOK_PROGRESS_INTERVAL_S`, so never per
estimate: estimates are not logged) and `preview`, and `workers.batch.release` for a
batch's `completed` (its last item ended, or a cancel ended the batch). A job or batch
without a webhook costs one attribute check.

The body is rendered once, now: the job as `GET /v1/jobs/{id}` shows it (the batch as
`GET /v1/batches/{id}` does) at this moment, under the Standard Webhooks envelope
`{type, timestamp, data}` (plus `event`: the logged event's details, for `started`,
`progress` and `preview`). Every attempt sends those same bytes.
"""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workers.batch.models import Batch
from workers.batch.reader import read_batch
from workers.db.base import utcnow
from workers.job import messages
from workers.job.models import Job
from workers.job.reader import read_job
from workers.settings import get_settings
from workers.webhook import deliveries
from workers.webhook.events import BATCH, WebhookEvent
from workers.webhook.models import WebhookDelivery

log = logging.getLogger(__name__)


def on_ended(session: Session, job: Job) -> None:
    """`job` just ended (any terminal status): its `completed` webhook."""
    if job.webhook_url is None or WebhookEvent.COMPLETED not in (job.webhook_events or ()):
        return
    _enqueue(session, job, WebhookEvent.COMPLETED, job.last_event_seq, None, utcnow())


def on_batch_ended(session: Session, batch: Batch) -> None:
    """Every item of `batch` has now ended (or was canceled unreleased): its `completed`
    webhook, once. The caller holds the batch's row lock, so two items ending at once
    cannot both get here with no delivery made yet; the unique (batch_id, event) backs it."""
    if batch.webhook_url is None:
        return
    assert batch.webhook_signer is not None
    kind = WebhookEvent.COMPLETED
    if deliveries.exists_for(session, batch_id=batch.id, event=kind):
        return
    now = utcnow()
    data = read_batch(session, batch.id, owner=batch.owner).model_dump(mode="json")
    delivery = deliveries.create(
        session,
        batch_id=batch.id,
        event=kind,
        url=batch.webhook_url,
        signer=batch.webhook_signer,
        body=_envelope(kind.type_of(BATCH), data, now),
        now=now,
    )
    messages.webhook_after_commit(session, delivery.id)
    log.info("webhook.enqueued delivery_id=%s batch_id=%s event=%s", delivery.id, batch.id, kind)


def on_event(session: Session, job: Job, seq: int, type_: str, payload: dict[str, Any]) -> None:
    """`job` logged event `seq`: its `started`, `progress` or `preview` webhook, if asked."""
    if job.webhook_url is None:
        return
    kind = _kind_of(job, type_)
    if kind is None or kind not in (job.webhook_events or ()):
        return
    now = utcnow()
    if kind is WebhookEvent.PROGRESS and _progress_sent_since(
        session, job, now - timedelta(seconds=get_settings().webhook_progress_interval_s)
    ):
        return
    _enqueue(session, job, kind, seq, payload, now)


def _kind_of(job: Job, type_: str) -> WebhookEvent | None:
    if type_ == "running":
        # A retry or a takeover runs the job again; it started once.
        return WebhookEvent.STARTED if job.attempts == 1 else None
    if type_ == "phase":
        return WebhookEvent.PROGRESS
    if type_ == "preview":
        return WebhookEvent.PREVIEW
    return None


def _progress_sent_since(session: Session, job: Job, since: datetime) -> bool:
    last = session.scalar(
        select(func.max(WebhookDelivery.created_at)).where(
            WebhookDelivery.job_id == job.id, WebhookDelivery.event == WebhookEvent.PROGRESS
        )
    )
    return last is not None and last > since


def _enqueue(
    session: Session,
    job: Job,
    kind: WebhookEvent,
    seq: int,
    details: dict[str, Any] | None,
    now: datetime,
) -> None:
    assert job.webhook_url is not None
    assert job.webhook_signer is not None
    data = read_job(session, job.id).model_dump(mode="json")
    delivery = deliveries.create(
        session,
        job_id=job.id,
        event=kind,
        event_seq=seq,
        url=job.webhook_url,
        signer=job.webhook_signer,
        body=_envelope(kind.type, data, now, None if details is None else {"seq": seq, **details}),
        now=now,
    )
    messages.webhook_after_commit(session, delivery.id)
    log.info("webhook.enqueued delivery_id=%s job_id=%s event=%s", delivery.id, job.id, kind.value)


def _envelope(
    type_: str, data: dict[str, Any], now: datetime, event: dict[str, Any] | None = None
) -> str:
    """The Standard Webhooks body: `{type, timestamp, data}`, and `event` when given."""
    envelope: dict[str, Any] = {
        "type": type_,
        "timestamp": now.isoformat().replace("+00:00", "Z"),
        "data": data,
    }
    if event is not None:
        envelope["event"] = event
    return json.dumps(envelope, separators=(",", ":"))
