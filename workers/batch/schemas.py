"""A batch's public shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from workers.db.storable import StorableStr
from workers.job.schemas import JobCreate, JobError

MAX_ITEMS = 1000


class BatchCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[JobCreate] = Field(
        min_length=1, max_length=MAX_ITEMS, description="Each like a POST /v1/jobs body."
    )
    idempotency_key: StorableStr | None = Field(default=None, min_length=1, max_length=255)
    webhook_url: StorableStr | None = Field(
        default=None,
        max_length=2048,
        description="POSTed one signed `batch.completed` event, the batch as GET "
        "/v1/batches/{id} shows it, once every item has ended (or was canceled unreleased); "
        "default: the key's default webhook, if it takes `completed`. Each item's own "
        "webhook_url and webhook_events still apply to that item's job. Public http(s) "
        "addresses only.",
    )


class BatchItemRead(BaseModel):
    index: int
    job_id: uuid.UUID | None = Field(description="Null until the item is released.")
    status: str = Field(description="pending (not released yet), or its job's status.")
    result: dict[str, Any] | None
    error: JobError | None


class LatencyRead(BaseModel):
    """Seconds, over the items that ended: p50 and p90 of each figure."""

    total: dict[str, float] = Field(description="End to end, from the job's creation.")
    phases: dict[str, dict[str, float]] = Field(description="By phase name: p50, p90.")


class BatchRead(BaseModel):
    id: uuid.UUID
    created_at: datetime
    canceled_at: datetime | None
    item_count: int
    counts: dict[str, int] = Field(description="Items by status, pending included.")
    done: bool = Field(description="Every item has ended (or was canceled unreleased).")
    latency: LatencyRead
    estimated_usd: float
    actual_usd: float = Field(description="What the ended items cost.")
    items: list[BatchItemRead]
