"""The key's webhook settings: its signing secret (shown on demand, rotated with an
overlap) and its default webhook, for its jobs that name none."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy.orm import Session

from api.auth import current_caller
from api.deps import db_session
from workers.db.base import utcnow
from workers.errors import Conflict
from workers.key import service as keys
from workers.key.caller import Caller
from workers.webhook import secrets
from workers.webhook.schemas import SecretRead, WebhookDefault

router = APIRouter(prefix="/v1/webhooks", tags=["webhooks"])


@router.get("/default/secret", response_model=SecretRead)
def get_secret(
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
) -> SecretRead:
    """The whsec_ secret this key's webhooks are signed with; made on first use. Verify
    deliveries with any Standard Webhooks library."""
    row = secrets.current(session, secrets.holder_of(caller), utcnow())
    return SecretRead(key=row.secret, previous_valid_until=_overlap(row.previous_until))


@router.post("/default/secret/rotate", response_model=SecretRead)
def rotate_secret(
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
) -> SecretRead:
    """A new secret; until `previous_valid_until` (WEBHOOK_SECRET_OVERLAP_S) deliveries carry
    the old secret's signature too, space-separated, so receivers switch without a gap."""
    row = secrets.rotate(session, secrets.holder_of(caller), utcnow())
    return SecretRead(key=row.secret, previous_valid_until=row.previous_until)


@router.get("/default", response_model=WebhookDefault)
def get_default(
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
) -> WebhookDefault:
    """The key's default webhook (none: `url` null)."""
    if caller.key_id is None:
        return WebhookDefault()
    key = keys.get(session, caller.key_id)
    return WebhookDefault.model_validate({"url": key.webhook_url, "events": key.webhook_events})


@router.put("/default", response_model=WebhookDefault)
def put_default(
    body: WebhookDefault,
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
) -> WebhookDefault:
    """Set the key's default webhook (`url` null clears it); vetted as a job's URL is (422
    naming `webhook_url`). Jobs take it when they are submitted, within AUTH_CACHE_S."""
    if caller.key_id is None:
        raise Conflict("auth is disabled: there is no key to hold a default webhook")
    key = keys.set_webhook_default(
        session, keys.get(session, caller.key_id), url=body.url, events=body.events
    )
    keys.forget_cached_keys()  # this process's next request sees it at once
    return WebhookDefault.model_validate({"url": key.webhook_url, "events": key.webhook_events})


def _overlap(until: datetime | None) -> datetime | None:
    return until if until is not None and until > utcnow() else None
