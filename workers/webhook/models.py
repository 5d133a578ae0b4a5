"""Webhook rows: each key's signing secret, one delivery per (job, event) or (batch, event),
and the log of every attempt to deliver it."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum

from sqlalchemy import (
    CheckConstraint,
    Float,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.orm import Mapped, mapped_column

from workers.db.base import Base, BigId, UTCDateTime, utcnow
from workers.webhook.events import BATCH, JOB, WebhookEvent


class DeliveryState(StrEnum):
    PENDING = "pending"  # due at `next_attempt_at`, or being attempted (leased)
    DELIVERED = "delivered"  # the receiver answered 2xx: never sent again
    FAILED = "failed"  # the schedule ran out (or 410 Gone); a redelivery starts it again


class WebhookSecret(Base):
    """The `whsec_` secret deliveries are signed with, one per API key (`holder`
    `key:<id>`; a trusted caller without a key: `owner:<owner>`). Kept as it is, because
    it must be shown again; it never enters a task message or a log line."""

    __tablename__ = "webhook_secrets"

    holder: Mapped[str] = mapped_column(String(80), primary_key=True)
    secret: Mapped[str] = mapped_column(String(100))
    # After a rotation, the old secret also signs until `previous_until`.
    previous_secret: Mapped[str | None] = mapped_column(String(100))
    previous_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rotated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class WebhookDelivery(Base):
    """One event of one job, or of one batch, to one URL; its id is the `webhook-id` of
    every attempt."""

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # One delivery per logged event: a job's event can never be enqueued twice.
        UniqueConstraint("job_id", "event_seq"),
        # A batch's event (`completed`) once, however many of its items end at once.
        UniqueConstraint("batch_id", "event"),
        # About a job (and one of its logged events) or about a batch, never both.
        CheckConstraint(
            "(job_id IS NOT NULL AND event_seq IS NOT NULL AND batch_id IS NULL)"
            " OR (job_id IS NULL AND event_seq IS NULL AND batch_id IS NOT NULL)",
            name="subject",
        ),
        CheckConstraint("event IN ('completed', 'started', 'progress', 'preview')", name="event"),
        CheckConstraint("state IN ('pending', 'delivered', 'failed')", name="state"),
        # What the sweep looks for: pending deliveries that are due.
        Index("ix_webhook_deliveries_state_next_attempt_at", "state", "next_attempt_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    job_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("jobs.id", ondelete="CASCADE"), index=True
    )
    batch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("batches.id", ondelete="CASCADE"))
    event: Mapped[str] = mapped_column(String(16))
    event_seq: Mapped[int | None] = mapped_column(Integer)  # the job event that caused it
    url: Mapped[str] = mapped_column(String(2048))
    signer: Mapped[str] = mapped_column(String(80))  # whose secret signs it (`holder`)
    body: Mapped[str] = mapped_column(Text)  # exactly the bytes sent (and signed), every time
    state: Mapped[str] = mapped_column(String(16), default=DeliveryState.PENDING)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Attempts made before the latest redelivery: the retry schedule restarts from there.
    round_base: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # An attempt in progress holds the delivery until then; a worker that died lets go.
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When a message was last sent for it; None: none is on its way (the sweep sends one).
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def webhook_id(self) -> str:
        return webhook_id_of(self.id)

    @property
    def type(self) -> str:
        """The payload's `type`: `job.completed`, `batch.completed`, …"""
        return WebhookEvent(self.event).type_of(JOB if self.job_id is not None else BATCH)


def webhook_id_of(delivery_id: uuid.UUID) -> str:
    return f"msg_{delivery_id.hex}"


class WebhookAttempt(Base):
    """One try at a delivery: what came back and how long it took."""

    __tablename__ = "webhook_attempts"
    __table_args__ = (UniqueConstraint("delivery_id", "number"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    delivery_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("webhook_deliveries.id", ondelete="CASCADE")
    )
    number: Mapped[int] = mapped_column(Integer)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status_code: Mapped[int | None] = mapped_column(SmallInteger)
    latency_ms: Mapped[float] = mapped_column(Float)
    error: Mapped[str | None] = mapped_column(String(500))
