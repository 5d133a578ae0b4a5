"""One row per (request key, scope): the stored result, and the generation in flight."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from workers.db.base import Base, BigId, JSONType, UTCDateTime, utcnow


class CacheEntry(Base):
    """A cached result and/or the job generating it (single flight).

    `result`/`expires_at` are the stored result (fresh while `expires_at` is in the future);
    `leader_job_id` is the job generating this request right now, which identical requests
    join instead of generating again. Both can be set: a forced refresh of a fresh entry.
    Job ids are informational (no foreign key): deleting jobs never blocks on the cache.
    """

    __tablename__ = "cache_entries"
    __table_args__ = (
        # The single-flight arbiter: one row per request and scope, across API processes.
        UniqueConstraint("key", "scope"),
        Index("ix_cache_entries_leader_job_id", "leader_job_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    key: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(100))
    model: Mapped[str] = mapped_column(String(200))
    input: Mapped[dict[str, Any]] = mapped_column(JSONType)
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    result_job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    leader_job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    leader_since: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    refreshed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    def is_fresh(self, now: datetime) -> bool:
        return self.result is not None and self.expires_at is not None and self.expires_at > now
