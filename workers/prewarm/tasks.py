"""Celery tasks of pre-generation. Thin: the scheduler does the work."""

from __future__ import annotations

from datetime import datetime

from celery import Task

from workers.celery_app import app
from workers.db.outage import is_unavailable
from workers.prewarm import scheduler
from workers.settings import get_settings

OUTAGE_RETRIES = 10  # about ten minutes of backoff; the next slot's run replaces it after


@app.task(name="prewarm.run", bind=True)
def run(self: Task) -> int:
    """Beat's cron entry: start pre-generation for the current slot.

    Exactly once per slot, even with two beats (the slot row decides); a second firing
    returns 0. When the in-flight cap leaves prompts waiting, `prewarm.top_up` follows.
    Retried with backoff while the database is away (a retry in a newer slot runs that
    slot); any other failure is replaced by the next slot's run.
    """
    try:
        report = scheduler.fire()
    except Exception as exc:
        if is_unavailable(exc):
            raise _outage_retry(self) from exc
        raise
    if report is None:
        return 0
    if report.waiting and report.slot is not None:
        _top_up_later(report.slot)
    return report.started


@app.task(name="prewarm.top_up", bind=True)
def top_up(self: Task, slot: str) -> int:
    """Start more of a slot's due prompts as its running ones finish; re-sends itself while
    prompts wait. Stops once a newer slot has fired. Safe to run twice: a duplicate finds
    the prompts in flight and starts nothing."""
    at = datetime.fromisoformat(slot)
    try:
        report = scheduler.top_up(at)
    except Exception as exc:
        if is_unavailable(exc):
            raise _outage_retry(self) from exc
        raise
    if report is None:
        return 0
    if report.waiting:
        _top_up_later(at)
    return report.started


def _top_up_later(slot: datetime) -> None:
    # The countdown (≤ 60 s by settings) stays far below the Redis visibility timeout.
    top_up.apply_async(args=[slot.isoformat()], countdown=get_settings().prewarm_top_up_s)


def _outage_retry(task: Task) -> BaseException:
    """A retry, with backoff, while the database or broker is away."""
    countdown = min(60.0, 2.0 ** (task.request.retries + 1))
    retry: BaseException = task.retry(countdown=countdown, max_retries=OUTAGE_RETRIES)
    return retry
