"""The job's public shapes: what a producer sends and what a reader gets back."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workers.catalog.models import Task, Tier
from workers.db.storable import StorableJson, StorableStr
from workers.webhook.events import WebhookEvent

AUTO = "auto"  # the model name that asks for a choice (workers/job/auto/)


class JobCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: StorableStr = Field(
        min_length=1,
        max_length=200,
        description='A catalog model id, or "auto": the highest-tier available model of '
        "`task` whose recorded p90 for such a job fits `max_latency_s` (see README).",
    )
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
    task: Task | None = Field(
        default=None, description='With "model": "auto" (required there): what to make.'
    )
    tier: Tier | None = Field(
        default=None,
        description='With "model": "auto": the highest tier wanted (fast < balanced < '
        "quality); default quality.",
    )
    max_latency_s: float | None = Field(
        default=None,
        gt=0,
        le=86_400,
        description='With "model": "auto": the budget the chosen model\'s recorded p90 end '
        "to end (or the catalog's typical latency, while few are recorded) must fit.",
    )

    @model_validator(mode="after")
    def _auto_fields(self) -> JobCreate:
        if self.model == AUTO:
            if self.task is None:
                raise ValueError('"model": "auto" needs a task, e.g. "text-to-video"')
            return self
        for name in ("task", "tier", "max_latency_s"):
            if getattr(self, name) is not None:
                raise ValueError(f'{name} goes with "model": "auto" only')
        return self


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
    auto_choice: dict[str, Any] | None = Field(
        default=None,
        description='"model": "auto" only: the model picked, the budget and tier asked for, '
        "each candidate's expected p90 and where it came from, and why this one.",
    )
    overhead_ms: float | None = Field(
        default=None,
        description="Our share of the job's time: its wall time (created → finished) minus "
        "the time the model itself took, the sum of its `model_loading` and `generation` "
        "phases over every attempt. For a hosted model those two are the provider's own "
        "time (waiting in the provider's queue, then generating); for a local one, loading "
        "and running the model. What is left is queueing here, encoding, storing, polling "
        "lag and retries. A cache hit's is its lookup; a joined job ran no model, so its "
        "whole wait counts. Null until the job ends.",
    )


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
