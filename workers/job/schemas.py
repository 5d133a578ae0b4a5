"""The job's public shapes: what a producer sends and what a reader gets back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from workers.db.storable import StorableJson, StorableStr
from workers.webhook.events import WebhookEvent


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: StorableStr = Field(min_length=1, max_length=200, description="A catalog model id.")
    input: StorableJson = Field(description="The model's input; see GET /v1/models.")
    priority: int = Field(default=5, ge=0, le=9, description="0 (lowest) to 9 (most urgent).")
    idempotency_key: StorableStr | None = Field(default=None, min_length=1, max_length=255)
    cache: bool = Field(
        default=True,
        description="Answer from the result cache when it can; false forces a fresh generation "
        "(whose result still refreshes the cache).",
    )
    preview: bool = Field(
        default=False,
        description="Video models: also render the prompt's first frame with a fast image "
        "model; its URL arrives as a `preview` event well before the video.",
    )
    webhook_url: StorableStr | None = Field(
        default=None,
        max_length=2048,
        description="POST the job's events here, signed as Standard Webhooks says (see "
        "GET /v1/webhooks/default/secret); default: the key's default webhook, if any. "
        "Public http(s) addresses only.",
    )
    webhook_events: list[WebhookEvent] | None = Field(
        default=None,
        max_length=4,
        description="Which events: completed (any end: succeeded, failed, canceled; the "
        "default), started, progress (phase changes, throttled), preview.",
    )


class PhaseRead(BaseModel):
    name: str
    attempt: int
    started_at: datetime
    duration_ms: float


class JobError(BaseModel):
    code: str
    message: str


class ProviderRead(BaseModel):
    """Where a hosted job stands at its provider."""

    name: str
    request_id: str | None
    submit_state: str | None
    status: dict[str, Any] | None  # state, queue_position, progress, recent logs


class CostRead(BaseModel):
    """What the job costs at its provider, in US dollars (see README "Cost")."""

    estimated_usd: float | None = Field(
        description="What generating the request costs at the model's price; set at creation."
    )
    actual_usd: float | None = Field(
        description="What the job cost once it ended: its measured output, or 0 for a cache "
        "hit, a joined job or an unbilled failure; null until it ends."
    )
    basis: str | None = Field(
        description='How the latest figure was computed, e.g. "8 s × $0.40/s at 720p".'
    )


class JobRead(BaseModel):
    id: uuid.UUID
    model: str
    kind: str
    status: str
    input: dict[str, Any]
    priority: int
    idempotency_key: str | None
    attempts: int
    result: dict[str, Any] | None
    error: JobError | None
    phases: list[PhaseRead]
    provider: ProviderRead
    created_at: datetime
    enqueued_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    source: str = Field(description="request: a caller's job; prewarm: pre-generation.")
    cache_hit: bool = Field(description="Answered from the result cache; no worker ran.")
    joined_job_id: uuid.UUID | None = Field(
        description="Single flight: the identical job whose generation this one shared."
    )
    parent_job_id: uuid.UUID | None = Field(
        default=None, description="Preview first: the video job this image job previews."
    )
    cost: CostRead


class UsageRow(BaseModel):
    key: str = Field(description="The model id or the UTC day (YYYY-MM-DD); total: all rows.")
    jobs: int = Field(description="Jobs created in the window, whatever their status.")
    succeeded: int
    failed: int
    canceled: int
    from_cache: int = Field(description="Succeeded without generating: cache hits, joined jobs.")
    video_seconds: float = Field(description="Seconds of video generated (stored files).")
    images: int = Field(description="Images generated.")
    spend_usd: float = Field(description="Actual cost of the jobs that ended.")
    pending_usd: float = Field(description="Estimated cost of the jobs not ended yet.")


class Usage(BaseModel):
    owner: str
    start: datetime = Field(serialization_alias="from", description="Inclusive.")
    end: datetime = Field(serialization_alias="to", description="Exclusive.")
    group_by: str
    rows: list[UsageRow]
    total: UsageRow
