"""The sweeper: re-sends every job whose message is missing.

A job's row is the truth; a message is only a nudge. Messages go missing when a send fails,
when a broker without persistence restarts, when a worker consumes one without claiming its
job, or when a worker dies holding one. The sweeper finds, from the rows alone, jobs queued
but never sent, jobs queued past their `resend_at` (sent, but nobody claimed them), running
jobs whose worker stopped renewing its lease, and hosted jobs whose provider finished
without a finalize reaching a worker, and sends their messages again after its transaction
commits.

The bound on duplicates: at most `BATCH` messages per sweep, and per job at most one per
doubling of its wait (`messages.next_resend_at`): 1 + log2(1 + T / LOST_MESSAGE_GRACE_S)
over a wait of T seconds, however many jobs are queued. Each costs a worker one refused
claim. A lost message is replaced at the latest max(grace, time waited) after its send,
plus one sweep interval.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.job import messages, repository
from workers.settings import get_settings

log = logging.getLogger(__name__)

BATCH = 500  # jobs re-sent per sweep at most; the next sweep takes the rest


def sweep() -> int:
    """Re-send what is missing; how many messages were sent. Safe to run anywhere, any
    number of times at once: a duplicate message finds its job already taken."""
    settings = get_settings()
    now = utcnow()
    grace = timedelta(seconds=settings.unsent_job_grace_s)
    with session_scope() as session:
        missing = repository.needing_dispatch(
            session, unsent_before=now - grace, now=now, limit=BATCH
        )
        unfinalized = repository.needing_finalize(session, done_before=now - grace, limit=BATCH)
        for job_id, priority in missing:
            messages.mark_sent(session, job_id)
            messages.generate_after_commit(session, job_id, priority)
        for job_id in unfinalized:
            messages.finalize_after_commit(session, job_id)
    if missing or unfinalized:
        log.warning("job.swept resent=%s finalize=%s", len(missing), len(unfinalized))
    return len(missing) + len(unfinalized)
