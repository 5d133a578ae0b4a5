"""One delivery attempt, from claim to record: what the `webhook.deliver` task runs.

1. Claim the delivery and read the signing secrets (a short transaction).
2. Vet the URL again (resolve, check every address) and POST to a checked address,
   signed now (`webhook-timestamp` is the attempt's time), outside any transaction.
3. Record the attempt and what comes next (a short transaction): delivered, a retry (its
   message sent after the commit when it is due within 60 s, else found by the sweep),
   or given up.

A worker that dies between 1 and 3 leaves the delivery leased; once the lease lapses the
sweep sends it again. The secrets never leave this function's frame: no log, no message.
"""

from __future__ import annotations

import logging
import uuid
from enum import StrEnum

from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.job import messages
from workers.settings import get_settings
from workers.webhook import deliveries, http, secrets, signing, ssrf
from workers.webhook.deliveries import Claimed, Outcome
from workers.webhook.models import DeliveryState

log = logging.getLogger(__name__)


class Result(StrEnum):
    DELIVERED = "delivered"
    RETRYING = "retrying"  # failed; tried again later
    GAVE_UP = "gave_up"  # failed, and the schedule is spent (or 410 Gone)
    SKIPPED = "skipped"  # not claimed: delivered already, not due, or held by an attempt


_RESULTS = {
    DeliveryState.DELIVERED: Result.DELIVERED,
    DeliveryState.PENDING: Result.RETRYING,
    DeliveryState.FAILED: Result.GAVE_UP,
}


def lease_s() -> float:
    """How long an attempt holds its delivery: well past the longest an attempt can take
    (the timeout bounds each of connect, send and answer, for each address)."""
    return get_settings().webhook_timeout_s * 4 + 30


def deliver(delivery_id: uuid.UUID) -> Result:
    started = utcnow()
    with session_scope() as session:
        claimed = deliveries.claim(session, delivery_id, now=started, lease_s=lease_s())
        keys = secrets.signing_secrets(session, claimed.signer, started) if claimed else []
    if claimed is None:
        log.info("webhook.skipped delivery_id=%s (delivered, not due, or in progress)", delivery_id)
        return Result.SKIPPED
    outcome = attempt(claimed, keys)
    with session_scope() as session:
        recorded = deliveries.record(session, claimed, outcome, started_at=started, now=utcnow())
        if recorded.countdown_s is not None:
            messages.webhook_after_commit(session, delivery_id, countdown_s=recorded.countdown_s)
    log.log(
        logging.INFO if outcome.delivered else logging.WARNING,
        "webhook.attempt delivery_id=%s webhook_id=%s %s event=%s attempt=%s "
        "status_code=%s latency_ms=%.1f error=%s",
        delivery_id,
        claimed.webhook_id,
        claimed.subject,
        claimed.event,
        claimed.number,
        outcome.status_code,
        outcome.latency_ms,
        outcome.error,
    )
    return _RESULTS[recorded.state]


def attempt(claimed: Claimed, keys: list[str]) -> Outcome:
    """Vet, sign and POST once; every failure becomes an `Outcome`, never an exception."""
    try:
        target = ssrf.vet(claimed.url)
    except ssrf.UnsafeUrl as exc:
        return Outcome(status_code=None, latency_ms=0.0, error=f"refused: {claimed.url} {exc}")
    timestamp = int(utcnow().timestamp())
    headers = {
        "webhook-id": claimed.webhook_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": signing.signature(claimed.webhook_id, timestamp, claimed.body, keys),
    }
    return http.post(
        target, claimed.body.encode(), headers, timeout_s=get_settings().webhook_timeout_s
    )
