"""One row per API key: its hash, whose it is, and its limits."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from workers.db.base import Base, BigId, JSONType, UTCDateTime, utcnow


class ApiKey(Base):
    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    # Whose jobs, cache entries and stats the key sees; several keys may share an owner
    # (a rotation: create the new key with the same owner, then revoke the old one).
    owner: Mapped[str] = mapped_column(String(64), index=True)
    prefix: Mapped[str] = mapped_column(String(16))  # the first characters, for lists
    hash: Mapped[str] = mapped_column(String(64), unique=True)
    rpm: Mapped[int | None] = mapped_column(Integer)  # requests per minute; None: no limit
    max_in_flight: Mapped[int | None] = mapped_column(Integer)  # queued + running jobs
    budget_usd: Mapped[float | None] = mapped_column(Float)
    budget_period_days: Mapped[int | None] = mapped_column(Integer)
    # The webhook of the key's jobs that name none themselves (workers/webhook/).
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    webhook_events: Mapped[list[str] | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class RateBucket(Base):
    """A key's request-rate bucket on the embedded default (Redis holds it otherwise)."""

    __tablename__ = "rate_buckets"

    bucket: Mapped[str] = mapped_column(String(64), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
