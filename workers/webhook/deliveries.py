"""The only writer of delivery rows and their attempt log. Functions flush; the caller
commits and sends the delivery's message after the commit (`workers.job.messages`).

A delivery is claimed before each attempt (a conditional UPDATE: due, pending, not held),
so two messages for it never make two attempts at once, and one that was delivered is
never claimed again. The HTTP call happens outside any transaction; its outcome is
recorded in a new one.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, or_, select, update
from sqlalchemy.orm import Session

from workers.webhook import schedule
from workers.webhook.models import DeliveryState, WebhookAttempt, WebhookDelivery, webhook_id_of

log = logging.getLogger(__name__)

# A message may arrive a little before its countdown's end by the database's clock.
EARLY_S = 1.0


def of(
    *, job_id: uuid.UUID | None = None, batch_id: uuid.UUID | None = None
) -> ColumnElement[bool]:
    """The deliveries of one job or of one batch (exactly one of the two)."""
    if (job_id is None) == (batch_id is None):
        raise ValueError("deliveries belong to a job or to a batch")
    if job_id is not None:
        return WebhookDelivery.job_id == job_id
    return WebhookDelivery.batch_id == batch_id


def create(
    session: Session,
    *,
    job_id: uuid.UUID | None = None,
    event_seq: int | None = None,
    batch_id: uuid.UUID | None = None,
    event: str,
    url: str,
    signer: str,
    body: str,
    now: datetime,
) -> WebhookDelivery:
    """A new delivery of a job's logged event (`job_id`, `event_seq`) or of a batch's event
    (`batch_id`), due now; its message is sent after the commit (`sent_at` says so)."""
    of(job_id=job_id, batch_id=batch_id)  # exactly one subject (the table checks it too)
    delivery = WebhookDelivery(
        id=uuid.uuid4(),
        job_id=job_id,
        batch_id=batch_id,
        event=event,
        event_seq=event_seq,
        url=url,
        signer=signer,
        body=body,
        state=DeliveryState.PENDING,
        attempts=0,
        round_base=0,
        next_attempt_at=now,
        sent_at=now,
        created_at=now,
    )
    session.add(delivery)
    return delivery


def exists_for(session: Session, *, batch_id: uuid.UUID, event: str) -> bool:
    """Whether the batch already has a delivery of `event`."""
    found = session.scalar(
        select(WebhookDelivery.id)
        .where(of(batch_id=batch_id), WebhookDelivery.event == event)
        .limit(1)
    )
    return found is not None


@dataclass(frozen=True)
class Claimed:
    """A delivery held for one attempt: what to send, safe to use after its session."""

    delivery_id: uuid.UUID
    subject: str  # what it is about, for log lines: `job_id=…` or `batch_id=…`
    event: str
    url: str
    signer: str
    body: str
    number: int  # this attempt's number, counting every attempt the delivery had
    in_round: int  # its number since the delivery was enqueued or last redelivered

    @property
    def webhook_id(self) -> str:
        return webhook_id_of(self.delivery_id)


def subject_of(row: WebhookDelivery) -> str:
    return f"job_id={row.job_id}" if row.job_id is not None else f"batch_id={row.batch_id}"


def claim(
    session: Session, delivery_id: uuid.UUID, *, now: datetime, lease_s: float
) -> Claimed | None:
    """Hold a due, pending delivery for one attempt; None when it is delivered, given up,
    not due yet, or held by an attempt in progress."""
    held = session.execute(
        update(WebhookDelivery)
        .where(
            WebhookDelivery.id == delivery_id,
            WebhookDelivery.state == DeliveryState.PENDING,
            WebhookDelivery.next_attempt_at <= now + timedelta(seconds=EARLY_S),
            or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
        )
        .values(
            attempts=WebhookDelivery.attempts + 1,
            lease_until=now + timedelta(seconds=lease_s),
            sent_at=None,
        )
        .execution_options(synchronize_session=False)
    )
    if not held.rowcount:  # type: ignore[attr-defined]
        return None
    row = session.execute(
        select(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .execution_options(populate_existing=True)
    ).scalar_one()
    return Claimed(
        delivery_id=row.id,
        subject=subject_of(row),
        event=row.event,
        url=row.url,
        signer=row.signer,
        body=row.body,
        number=row.attempts,
        in_round=row.attempts - row.round_base,
    )


@dataclass(frozen=True)
class Outcome:
    """What one attempt got: a status code (None: no answer), its latency, and why it
    failed (None: a 2xx)."""

    status_code: int | None
    latency_ms: float
    error: str | None
    retry_after_s: float | None = None
    give_up: bool = False  # 410 Gone: the receiver wants no more

    @property
    def delivered(self) -> bool:
        return self.error is None


@dataclass(frozen=True)
class Recorded:
    state: DeliveryState  # where the delivery stands after the attempt
    # Send its message now with this countdown (a retry due within `MAX_COUNTDOWN_S`);
    # None: nothing to send (done, a later retry the sweep will send, or another attempt's).
    countdown_s: float | None = None


def record(
    session: Session, claimed: Claimed, outcome: Outcome, *, started_at: datetime, now: datetime
) -> Recorded:
    """Log the attempt and move the delivery on: delivered, due again later, or failed."""
    session.add(
        WebhookAttempt(
            delivery_id=claimed.delivery_id,
            number=claimed.number,
            started_at=started_at,
            status_code=outcome.status_code,
            latency_ms=round(outcome.latency_ms, 3),
            error=outcome.error[:500] if outcome.error else None,
        )
    )
    row = session.execute(
        select(WebhookDelivery).where(WebhookDelivery.id == claimed.delivery_id).with_for_update()
    ).scalar_one()
    if outcome.delivered:
        # A 2xx is final even if this attempt outlived its lease: it is never sent again.
        row.state, row.delivered_at = DeliveryState.DELIVERED, now
        row.next_attempt_at = row.lease_until = row.sent_at = None
        return Recorded(DeliveryState.DELIVERED)
    if row.state != DeliveryState.PENDING or row.attempts != claimed.number:
        # Delivered meanwhile, or a later attempt holds it: that one decides.
        return Recorded(DeliveryState(row.state))
    delay = (
        None if outcome.give_up else schedule.retry_delay_s(claimed.in_round, outcome.retry_after_s)
    )
    row.lease_until = None
    if delay is None:
        row.state, row.next_attempt_at, row.sent_at = DeliveryState.FAILED, None, None
        log.warning(
            "webhook.given_up delivery_id=%s %s attempts=%s error=%s",
            row.id,
            subject_of(row),
            row.attempts,
            outcome.error,
        )
        return Recorded(DeliveryState.FAILED)
    row.next_attempt_at = now + timedelta(seconds=delay)
    if delay <= schedule.MAX_COUNTDOWN_S:
        row.sent_at = now
        return Recorded(DeliveryState.PENDING, countdown_s=delay)
    row.sent_at = None
    return Recorded(DeliveryState.PENDING)


def due_unsent(
    session: Session, *, now: datetime, resend_before: datetime, limit: int
) -> list[uuid.UUID]:
    """Pending deliveries that are due, not held, and have no message on its way (never
    sent, sent for a later retry by the sweep, or sent so long ago that it was lost); each
    is marked sent."""
    ids = list(
        session.scalars(
            select(WebhookDelivery.id)
            .where(
                WebhookDelivery.state == DeliveryState.PENDING,
                WebhookDelivery.next_attempt_at <= now,
                or_(WebhookDelivery.lease_until.is_(None), WebhookDelivery.lease_until < now),
                or_(WebhookDelivery.sent_at.is_(None), WebhookDelivery.sent_at < resend_before),
            )
            .order_by(WebhookDelivery.next_attempt_at)
            .limit(limit)
        )
    )
    if ids:
        session.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id.in_(ids))
            .values(sent_at=now)
            .execution_options(synchronize_session=False)
        )
    return ids


def mark_unsent(session: Session, delivery_id: uuid.UUID) -> None:
    """Its message could not be sent: the sweep sends it when it is due."""
    session.execute(
        update(WebhookDelivery)
        .where(WebhookDelivery.id == delivery_id)
        .values(sent_at=None)
        .execution_options(synchronize_session=False)
    )


@dataclass(frozen=True)
class Redelivered:
    resent: list[WebhookDelivery]  # due now again, with the same webhook-id
    already_delivered: list[WebhookDelivery]  # answered 2xx: never sent again
    in_progress: list[WebhookDelivery]  # an attempt holds it right now


def redeliver(
    session: Session,
    *,
    job_id: uuid.UUID | None = None,
    batch_id: uuid.UUID | None = None,
    now: datetime,
) -> Redelivered:
    """Make every undelivered event of the job or batch (`job_id=` or `batch_id=`) due now,
    each with a fresh retry schedule; delivered ones stay delivered."""
    rows = list(
        session.scalars(
            select(WebhookDelivery)
            .where(of(job_id=job_id, batch_id=batch_id))
            .order_by(WebhookDelivery.event_seq, WebhookDelivery.created_at)
            .with_for_update()
        )
    )
    resent, delivered, busy = [], [], []
    for row in rows:
        if row.state == DeliveryState.DELIVERED:
            delivered.append(row)
        elif row.lease_until is not None and row.lease_until > now:
            busy.append(row)
        else:
            row.state, row.next_attempt_at, row.lease_until = DeliveryState.PENDING, now, None
            row.round_base, row.sent_at = row.attempts, now
            resent.append(row)
    session.flush()
    return Redelivered(resent, delivered, busy)
