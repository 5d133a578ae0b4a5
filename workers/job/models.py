"""Job rows: the job itself, one row per finished phase per attempt, and its event log."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
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

from workers.db.base import Base, BigId, JSONType, UTCDateTime, utcnow
from workers.job.status import JobStatus, SubmitState
from workers.key.caller import ANONYMOUS

DEFAULT_OWNER = ANONYMOUS.owner  # every job's owner while auth is disabled
PREWARM_OWNER = "prewarm"  # the owner of pre-generation jobs


class Phase(StrEnum):
    """The latency breakdown every job is measured in, in order."""

    QUEUE_WAIT = "queue_wait"
    MODEL_LOADING = "model_loading"
    GENERATION = "generation"
    ENCODING = "encoding"
    UPLOAD = "upload"
    # A job answered without a worker has one phase instead of the five above:
    CACHE_LOOKUP = "cache_lookup"  # a cache hit: request received → result found
    JOINED_WAIT = "joined_wait"  # single flight: waited for an identical job's generation


class Source(StrEnum):
    REQUEST = "request"  # a caller's job (API, CLI, Python)
    PREWARM = "prewarm"  # pre-generation for the shared cache


class Job(Base):
    __tablename__ = "jobs"
    __table_args__ = (
        # An idempotency key is unique per owner, so per-key isolation needs no new index.
        UniqueConstraint("owner", "idempotency_key"),
        CheckConstraint(
            "status IN ('queued', 'running', 'succeeded', 'failed', 'canceled')", name="status"
        ),
        CheckConstraint("kind IN ('image', 'video', 'audio')", name="kind"),
        CheckConstraint("priority BETWEEN 0 AND 9", name="priority"),
        Index("ix_jobs_status_created_at", "status", "created_at"),
        Index("ix_jobs_status_resend_at", "status", "resend_at"),
        # A key's jobs in flight, counted at each of its submissions.
        Index("ix_jobs_owner_status", "owner", "status"),
        CheckConstraint("source IN ('request', 'prewarm')", name="source"),
        Index("ix_jobs_joined_job_id", "joined_job_id"),
        Index("ix_jobs_parent_job_id", "parent_job_id"),
        Index("ix_jobs_batch_id", "batch_id"),
        Index("ix_jobs_submit_state_next_poll_at", "submit_state", "next_poll_at"),
        CheckConstraint(
            "submit_state IN ('intent', 'submitted', 'completed')", name="submit_state"
        ),
        # Usage and spend are per owner over a time window.
        Index("ix_jobs_owner_created_at", "owner", "created_at"),
        # Latency stats are per owner over the jobs that ended in a window; /metrics adds up
        # the jobs that ended since its last mark (workers/stats, workers/metrics).
        Index("ix_jobs_owner_finished_at", "owner", "finished_at"),
        Index("ix_jobs_finished_at", "finished_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True, default=uuid.uuid4)
    owner: Mapped[str] = mapped_column(String(64), default=DEFAULT_OWNER)
    model: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(16))
    input: Mapped[dict[str, Any]] = mapped_column(JSONType)
    # Written only by `workers.job.state.transitions`, like `submit_state`.
    status: Mapped[str] = mapped_column(String(16))
    priority: Mapped[int] = mapped_column(SmallInteger, default=5)
    idempotency_key: Mapped[str | None] = mapped_column(String(255))
    # sha256 of the canonical request, to tell a true retry from a reused key.
    request_hash: Mapped[str] = mapped_column(String(64))
    result: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    error_code: Mapped[str | None] = mapped_column(String(64))
    error_message: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    # Sequence number of the job's latest event; bumped under the row lock.
    last_event_seq: Mapped[int] = mapped_column(Integer, default=0)
    # A running job whose lease has run out lost its worker: the sweeper re-sends it and the
    # next delivery takes it over as a new attempt.
    lease_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Hosted providers. The submission's life (`SubmitState`): `intent` is committed before
    # the provider is called, `submitted` once its request id is stored, `completed` when its
    # output is ready for us to fetch. See README "Exactly one submission".
    provider: Mapped[str] = mapped_column(String(32), default="local")
    submit_state: Mapped[str | None] = mapped_column(String(16))
    # When the first attempt to submit committed its intent: a later attempt asks the
    # provider for requests made since then before submitting again.
    intent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_request_id: Mapped[str | None] = mapped_column(String(255))
    provider_handles: Mapped[dict[str, str] | None] = mapped_column(JSONType)
    # The provider's last reported status: state, queue position, progress, recent logs.
    remote: Mapped[dict[str, Any] | None] = mapped_column(JSONType)
    next_poll_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    poll_lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where the last recorded phase ended: the next phase starts here, whichever process
    # records it, so an attempt's phases stay back to back.
    phase_mark_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    # Result cache. `cache_key` is the canonical request (model + normalized input) and
    # `cache_scope` where this job's result is stored (None: not cached); see workers/cache.
    source: Mapped[str] = mapped_column(String(16), default=Source.REQUEST)
    cache_key: Mapped[str | None] = mapped_column(String(64))
    cache_scope: Mapped[str | None] = mapped_column(String(100))
    cache_hit: Mapped[bool] = mapped_column(Boolean, default=False)
    # Single flight: the identical job whose generation this one waits for and shares.
    joined_job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # Preview first: the video job this (image) job previews; its result becomes the
    # parent's `preview` event (`workers.job.state.preview`).
    parent_job_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)
    # The batch this job is an item of (`workers.batch`): its end releases the next item.
    batch_id: Mapped[uuid.UUID | None] = mapped_column(Uuid)

    # Cost in micro-dollars (exact integers on every backend; see workers/job/state/cost.py):
    # the estimate is set when the job is created, the actual cost when it ends, and
    # `cost_basis` says how the latest of them was computed.
    estimated_cost_micros: Mapped[int | None] = mapped_column(BigInteger)
    actual_cost_micros: Mapped[int | None] = mapped_column(BigInteger)
    cost_basis: Mapped[str | None] = mapped_column(String(300))

    # `"model": "auto"` (workers/job/auto/): the model picked, the budget, the figures
    # compared and why; null when the caller named a model.
    auto_choice: Mapped[dict[str, Any] | None] = mapped_column(JSONType)

    # Webhooks out (workers/webhook/): where this job's events go, which events, and whose
    # secret signs them; set at creation from the request or its key's default.
    webhook_url: Mapped[str | None] = mapped_column(String(2048))
    webhook_events: Mapped[list[str] | None] = mapped_column(JSONType)
    webhook_signer: Mapped[str | None] = mapped_column(String(80))

    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    enqueued_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # When this job's last `job.generate` is presumed lost if the job has not been claimed
    # by then; the sweeper sends another (`workers.job.messages` alone writes it).
    resend_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def job_status(self) -> JobStatus:
        return JobStatus(self.status)

    @property
    def submit_stage(self) -> SubmitState | None:
        return SubmitState(self.submit_state) if self.submit_state else None


class JobPhase(Base):
    __tablename__ = "job_phases"
    __table_args__ = (UniqueConstraint("job_id", "attempt", "name"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"), index=True)
    attempt: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime)
    duration_ms: Mapped[float] = mapped_column(Float)


class JobEvent(Base):
    """Durable, ordered per-job log; live progress streams replay it from a sequence number."""

    __tablename__ = "job_events"
    __table_args__ = (UniqueConstraint("job_id", "seq"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    job_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("jobs.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(32))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
