"""Celery tasks of webhooks out, on the `webhooks` queue. Thin: ids only, one call each."""

from __future__ import annotations

import logging
import uuid

from workers.celery_app import app
from workers.webhook import send, sweeper

log = logging.getLogger(__name__)


@app.task(name="webhook.deliver")
def deliver(delivery_id: str) -> str:
    """One attempt at a delivery (see `workers.webhook.send`). Never raises: a failure is
    a logged attempt, and anything unexpected leaves the lease to lapse for the sweep."""
    try:
        return str(send.deliver(uuid.UUID(delivery_id)))
    except Exception:
        log.exception("webhook.deliver_crashed delivery_id=%s", delivery_id)
        return "crashed"


@app.task(name="webhook.sweep")
def sweep() -> int:
    """Send the messages of due deliveries that have none on its way; beat runs it every
    `WEBHOOK_SWEEP_INTERVAL_S`."""
    return sweeper.sweep()
