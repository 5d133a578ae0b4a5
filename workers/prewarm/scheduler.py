"""Entry points that own a transaction: beat's firing, its top-ups, and a manual run.

Exactly one firing per scheduled slot, however many beats run: the slot is the latest
cron time at or before now, and `prewarm_runs` has the slot as its primary key, so the
second firing's insert finds the first's row and does nothing. Jobs are sent to the
`prewarm` queue after their rows commit (`workers.job.messages`); a send that fails leaves
the job for the sweeper.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy.orm import Session

from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.job import messages
from workers.prewarm import repository, service
from workers.prewarm.schemas import RunReport
from workers.prewarm.service import Started
from workers.schedule import Cron
from workers.settings import get_settings

log = logging.getLogger(__name__)

# A beat whose clock runs slightly ahead fires just before the slot; count it as that slot.
_EARLY_FIRING = timedelta(seconds=5)


def cron() -> Cron:
    return Cron.parse(get_settings().prewarm_cron)


def slot_of(now: datetime) -> datetime:
    return cron().latest_at_or_before(now + _EARLY_FIRING)


def fire(now: datetime | None = None) -> RunReport | None:
    """Beat's firing: take the current slot and start what is due. None when this slot
    already fired (the other beat's firing)."""
    now = now or utcnow()
    slot = slot_of(now)
    with session_scope() as session:
        if not repository.take_slot(session, slot, now):
            log.info("prewarm.slot_taken slot=%s", slot.isoformat())
            return None
        auto_added = service.add_most_requested(session, now)
        started = service.start_due(session, now=now, next_run=cron().next_after(slot))
        _count(session, slot, started)
        _send_after_commit(session, started)
    log.info(
        "prewarm.fired slot=%s started=%s waiting=%s auto_added=%s",
        slot.isoformat(),
        len(started.jobs),
        started.waiting,
        auto_added,
    )
    return RunReport(
        slot=slot, started=len(started.jobs), waiting=started.waiting, auto_added=auto_added
    )


def top_up(slot: datetime, now: datetime | None = None) -> RunReport | None:
    """Start more of the slot's due prompts as earlier ones finish; None once a newer slot
    has fired (it takes over)."""
    now = now or utcnow()
    with session_scope() as session:
        # Locking the slot's row makes concurrent top-ups take turns under the cap.
        run = repository.run_for_update(session, slot)
        if run is None or repository.latest_slot(session) != slot:
            return None
        started = service.start_due(session, now=now, next_run=cron().next_after(slot))
        run.jobs_started += len(started.jobs)
        _send_after_commit(session, started)
    return RunReport(slot=slot, started=len(started.jobs), waiting=started.waiting)


def run_now(now: datetime | None = None) -> RunReport:
    """A manual run outside the schedule (`abstrakt-queue prewarm run`); takes no slot."""
    now = now or utcnow()
    with session_scope() as session:
        started = service.start_due(session, now=now, next_run=cron().next_after(now))
        _send_after_commit(session, started)
    return RunReport(slot=None, started=len(started.jobs), waiting=started.waiting)


def _count(session: Session, slot: datetime, started: Started) -> None:
    run = repository.run_for_update(session, slot)
    if run is not None:
        run.jobs_started += len(started.jobs)


def _send_after_commit(session: Session, started: Started) -> None:
    for job_id, priority in started.jobs:
        messages.generate_after_commit(session, job_id, priority)
