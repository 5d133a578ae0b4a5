"""Celery tasks of pre-generation. Thin: the scheduler does the work."""

from __future__ import annotations

from datetime import datetime

from workers.celery_app import app
from workers.prewarm import scheduler
from workers.settings import get_settings


@app.task(name="prewarm.run")
def run() -> int:
    """Beat's cron entry: start pre-generation for the current slot.

    Exactly once per slot, even with two beats (the slot row decides); a second firing
    returns 0. When the in-flight cap leaves prompts waiting, `prewarm.top_up` follows.
    Not retried: a failed run is replaced by the next slot's.
    """
    report = scheduler.fire()
    if report is None:
        return 0
    if report.waiting and report.slot is not None:
        _top_up_later(report.slot)
    return report.started


@app.task(name="prewarm.top_up")
def top_up(slot: str) -> int:
    """Start more of a slot's due prompts as its running ones finish; re-sends itself while
    prompts wait. Stops once a newer slot has fired. Safe to run twice: a duplicate finds
    the prompts in flight and starts nothing."""
    at = datetime.fromisoformat(slot)
    report = scheduler.top_up(at)
    if report is None:
        return 0
    if report.waiting:
        _top_up_later(at)
    return report.started


def _top_up_later(slot: datetime) -> None:
    # The countdown (≤ 60 s by settings) stays far below the Redis visibility timeout.
    top_up.apply_async(args=[slot.isoformat()], countdown=get_settings().prewarm_top_up_s)
