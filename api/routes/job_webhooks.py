"""A job's webhook deliveries: the log of every attempt, and redelivery."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from api.auth import current_caller
from api.deps import db_session
from workers.key.caller import Caller
from workers.webhook import service
from workers.webhook.reader import job_webhooks
from workers.webhook.schemas import JobWebhooks, Redelivery

router = APIRouter(prefix="/v1/jobs", tags=["webhooks"])


@router.get("/{job_id}/webhooks", response_model=JobWebhooks)
def list_deliveries(
    job_id: uuid.UUID,
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
) -> JobWebhooks:
    """Each event sent for the job (one webhook-id each) with every attempt: its number,
    status code, latency and error. Another owner's job is 404."""
    return job_webhooks(session, job_id, owner=caller.owner)


@router.post("/{job_id}/webhooks/redeliver", response_model=Redelivery, status_code=202)
def redeliver(
    job_id: uuid.UUID,
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
) -> Redelivery:
    """Send the job's undelivered events again now, with the same webhook-ids and a fresh
    retry schedule. Events a receiver already answered 2xx are never sent again."""
    return service.redeliver(session, job_id, owner=caller.owner)
