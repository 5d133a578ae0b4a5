"""A batch, and its items in submission order."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import BigInteger, ForeignKey, Integer, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from workers.db.base import Base, JSONType, UTCDateTime, utcnow


class Batch(Base):
    __tablename__ = "batches"
    __table_args__ = (UniqueConstraint("owner", "idempotency_key"),)

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner: Mapped[str] = mapped_column(String(64))
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    # sha256 of the items as sent, to tell a retry from a reused key.
    request_hash: Mapped[str] = mapped_column(String(64))
    item_count: Mapped[int] = mapped_column(Integer)
    # The key the batch was submitted with (its limits apply to released items).
    key_id: Mapped[int | None] = mapped_column(BigInteger)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    canceled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where its `batch.completed` webhook goes (its own URL, or its key's default), and
    # whose secret signs it (workers/webhook/subscription.py); None: no webhook.
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    webhook_signer: Mapped[str | None] = mapped_column(String(80))


class BatchItem(Base):
    """One request of a batch: validated at submission, a job once released."""

    __tablename__ = "batch_items"

    batch_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("batches.id", ondelete="CASCADE"), primary_key=True
    )
    index: Mapped[int] = mapped_column(Integer, primary_key=True)
    request: Mapped[dict[str, Any]] = mapped_column(JSONType)  # a JobCreate body
    # Reserved against the key's budget while the item waits (workers/job/usage.py).
    estimated_cost_micros: Mapped[int] = mapped_column(BigInteger, default=0)
    job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid, unique=True)
    # Canceled before it was released: it never becomes a job.
    canceled: Mapped[bool] = mapped_column(default=False)
