"""The webhook API's shapes."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from workers.db.storable import StorableStr
from workers.webhook.events import WebhookEvent


class SecretRead(BaseModel):
    key: str = Field(description="The whsec_ secret deliveries are signed with.")
    previous_valid_until: datetime | None = Field(
        default=None,
        description="After a rotation: until when deliveries also carry the previous "
        "secret's signature.",
    )


class AttemptRead(BaseModel):
    attempt: int
    at: datetime
    status_code: int | None = Field(description="None: no answer (timeout, connection, refused).")
    latency_ms: float
    error: str | None = Field(description="None: the receiver answered 2xx.")


class DeliveryRead(BaseModel):
    webhook_id: str = Field(description="The webhook-id header: the same on every attempt.")
    event: str
    type: str = Field(description="The payload's type, e.g. job.completed, batch.completed.")
    url: str
    state: str = Field(description="pending, delivered or failed (the retries ran out).")
    attempts: int
    next_attempt_at: datetime | None
    created_at: datetime
    delivered_at: datetime | None
    log: list[AttemptRead]


class JobWebhooks(BaseModel):
    job_id: uuid.UUID
    webhook_url: str | None
    webhook_events: list[str] | None
    deliveries: list[DeliveryRead]


class BatchWebhooks(BaseModel):
    batch_id: uuid.UUID
    webhook_url: str | None = Field(
        description="Where batch.completed goes (the batch's own, or its key's default)."
    )
    deliveries: list[DeliveryRead]


class Redelivery(BaseModel):
    redelivered: list[str] = Field(description="webhook-ids due again now.")
    already_delivered: list[str] = Field(description="Answered 2xx: never sent again.")
    in_progress: list[str] = Field(description="An attempt is under way right now.")


class WebhookDefault(BaseModel):
    """The key's default webhook: for its jobs that name no `webhook_url`."""

    model_config = ConfigDict(extra="forbid")

    url: StorableStr | None = Field(default=None, max_length=2048, description="None: no default.")
    events: list[WebhookEvent] | None = Field(default=None, max_length=4)
