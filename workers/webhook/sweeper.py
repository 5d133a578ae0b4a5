"""The webhook sweep: sends the message of every delivery that is due and has none on its
way. Beat runs it every `WEBHOOK_SWEEP_INTERVAL_S`. That is how retries later than 60 s
happen (no countdown is longer), and how a lost message or a dead worker's attempt is
made good (its lease lapses). Safe anywhere, any number of times at once: a duplicate
message finds its delivery claimed, or delivered, and does nothing.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.job import messages
from workers.webhook import deliveries

log = logging.getLogger(__name__)

BATCH = 500
# A message sent this long ago for a delivery still due was lost (a broker without
# persistence restarted, a worker died holding it): send another.
LOST_AFTER = timedelta(minutes=10)


def sweep() -> int:
    now = utcnow()
    with session_scope() as session:
        due = deliveries.due_unsent(session, now=now, resend_before=now - LOST_AFTER, limit=BATCH)
        for delivery_id in due:
            messages.webhook_after_commit(session, delivery_id)
    if due:
        log.info("webhook.swept sent=%s", len(due))
    return len(due)
