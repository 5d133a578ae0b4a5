"""The pre-generation list, and one row per scheduled run (the lock that fires it once)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workers.db.base import Base, BigId, JSONType, UTCDateTime, utcnow


class Origin(StrEnum):
    MANUAL = "manual"  # added through the API, the CLI or a YAML file
    AUTO = "auto"  # added because it was among the most requested prompts


class PrewarmPrompt(Base):
    __tablename__ = "prewarm_prompts"
    __table_args__ = (
        # One item per owner and canonical request: two spellings of one prompt are one item.
        UniqueConstraint("owner", "cache_key"),
        CheckConstraint("origin IN ('manual', 'auto')", name="origin"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    # Whose list item it is: a key's owner (through the API), or the deployment's own
    # (`prewarm`: the CLI, YAML files and the most requested prompts). Every owner's items
    # are pre-generated into the shared cache.
    owner: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(200))
    input: Mapped[dict[str, Any]] = mapped_column(JSONType)  # canonical
    cache_key: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(16), default=Origin.MANUAL)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PrewarmRun(Base):
    """A scheduled slot that has fired. Its primary key is the slot, so a second beat's
    firing of the same slot finds the row and does nothing."""

    __tablename__ = "prewarm_runs"

    slot: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    jobs_started: Mapped[int] = mapped_column(Integer, default=0)
