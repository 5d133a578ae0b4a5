"""Each key's `whsec_` secret: made on first use, rotated with an overlap. The only writer
of `webhook_secrets`. Functions flush; the caller commits."""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.db.upsert import insert
from workers.key.caller import Caller
from workers.settings import get_settings
from workers.webhook import signing
from workers.webhook.models import WebhookSecret

log = logging.getLogger(__name__)


def holder_of(caller: Caller) -> str:
    """Whose secret signs a caller's webhooks: its key's; a trusted caller without a key
    (the Python producer, auth disabled) has one per owner."""
    return f"key:{caller.key_id}" if caller.key_id is not None else f"owner:{caller.owner}"


def current(session: Session, holder: str, now: datetime, *, lock: bool = False) -> WebhookSecret:
    """The holder's secret row, made now if it has none (two first uses at once make one)."""
    session.execute(
        insert(session, WebhookSecret)
        .values(holder=holder, secret=signing.new_secret(), created_at=now)
        .on_conflict_do_nothing()
    )
    query = select(WebhookSecret).where(WebhookSecret.holder == holder)
    if lock:
        query = query.with_for_update()
    return session.execute(query.execution_options(populate_existing=True)).scalar_one()


def rotate(session: Session, holder: str, now: datetime) -> WebhookSecret:
    """A new secret for `holder`; the old one keeps signing for `WEBHOOK_SECRET_OVERLAP_S`."""
    row = current(session, holder, now, lock=True)
    overlap = timedelta(seconds=get_settings().webhook_secret_overlap_s)
    row.previous_secret, row.previous_until = row.secret, now + overlap
    row.secret, row.rotated_at = signing.new_secret(), now
    session.flush()
    log.info("webhook.secret_rotated holder=%s previous_until=%s", holder, row.previous_until)
    return row


def signing_secrets(session: Session, holder: str, now: datetime) -> list[str]:
    """The secrets a delivery is signed with now: the current one, and the previous one
    during a rotation's overlap."""
    row = current(session, holder, now)
    valid = [row.secret]
    if row.previous_secret and row.previous_until and row.previous_until > now:
        valid.append(row.previous_secret)
    return valid
