"""Batches: many job requests in one call, all accepted or none."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.auth import current_caller
from api.deps import db_session
from workers.batch import producer
from workers.batch.reader import read_batch
from workers.batch.schemas import BatchCreate, BatchRead
from workers.key.caller import Caller
from workers.webhook import service as webhooks
from workers.webhook.reader import batch_webhooks
from workers.webhook.schemas import BatchWebhooks, Redelivery

router = APIRouter(prefix="/v1/batches", tags=["batches"])


class BatchAccepted(BaseModel):
    id: uuid.UUID
    items: int
    urls: dict[str, str]


@router.post("", status_code=202, response_model=BatchAccepted)
def create_batch(
    body: BatchCreate,
    request: Request,
    response: Response,
    caller: Annotated[Caller, Depends(current_caller)],
) -> Any:
    """Accept up to 1,000 job requests at once. Any invalid item refuses the whole batch
    with a 422 naming the item's index and field, as does a `webhook_url` that may not be
    called (naming `webhook_url`); nothing is written. The same
    `idempotency_key` returns the same batch (200), also while the first request is still
    being accepted. A few items run at a time (`BATCH_WINDOW`), the next as one ends."""
    batch_id, created = producer.submit(body, caller=caller)
    if not created:
        response.status_code = 200
    url = str(request.url_for("get_batch", batch_id=batch_id))
    response.headers["Location"] = url
    return BatchAccepted(id=batch_id, items=len(body.items), urls={"get": url})


@router.get("/{batch_id}", response_model=BatchRead, name="get_batch")
def get_batch(
    batch_id: uuid.UUID,
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
) -> BatchRead:
    """Counts by status, each item with its job and result, latency figures and cost."""
    return read_batch(session, batch_id, owner=caller.owner)


@router.post("/{batch_id}/cancel", response_model=BatchRead)
def cancel_batch(
    batch_id: uuid.UUID,
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
) -> BatchRead:
    """Cancel every item not ended: waiting ones never start, running ones stop."""
    producer.cancel(batch_id, owner=caller.owner)
    return read_batch(session, batch_id, owner=caller.owner)


@router.get("/{batch_id}/webhooks", response_model=BatchWebhooks, tags=["webhooks"])
def list_deliveries(
    batch_id: uuid.UUID,
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
) -> BatchWebhooks:
    """The batch's `batch.completed` delivery (once every item has ended) with every
    attempt: its number, status code, latency and error. Another owner's batch is 404."""
    return batch_webhooks(session, batch_id, owner=caller.owner)


@router.post(
    "/{batch_id}/webhooks/redeliver",
    response_model=Redelivery,
    status_code=202,
    tags=["webhooks"],
)
def redeliver(
    batch_id: uuid.UUID,
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
) -> Redelivery:
    """Send the batch's undelivered `batch.completed` again now, with the same webhook-id
    and a fresh retry schedule; one a receiver already answered 2xx is never sent again."""
    return webhooks.redeliver_batch(session, batch_id, owner=caller.owner)
