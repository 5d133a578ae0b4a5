"""Every Celery queue, and what belongs in it. Routing lives here and nowhere else."""

from __future__ import annotations

from enum import StrEnum


class Queue(StrEnum):
    JOBS = "jobs"  # users' jobs on local models: rendering, CPU-bound (a prefork pool)
    # Users' jobs on hosted models: submitting and finalizing, mostly waiting on the
    # provider, the database and the store (a threads pool: `worker --pool threads`).
    HOSTED = "hosted"
    PREWARM = "prewarm"  # cache pre-generation: runs when users' jobs leave room
    MAINTENANCE = "maintenance"  # sweeper and other short housekeeping
    # Webhooks out: a slow receiver holds a webhook worker, never a job's; run workers for
    # it apart (`up` does: `worker --queues webhooks --pool threads`).
    WEBHOOKS = "webhooks"


ROUTES: dict[str, dict[str, str]] = {
    "job.generate": {"queue": Queue.JOBS},  # or HOSTED or PREWARM: `generation_queue`
    "job.finalize": {"queue": Queue.HOSTED},
    "job.cancel_remote": {"queue": Queue.MAINTENANCE},
    "job.sweep": {"queue": Queue.MAINTENANCE},
    "prewarm.run": {"queue": Queue.MAINTENANCE},
    "prewarm.top_up": {"queue": Queue.MAINTENANCE},
    "webhook.deliver": {"queue": Queue.WEBHOOKS},
    "webhook.sweep": {"queue": Queue.WEBHOOKS},
}


def generation_queue(*, provider: str, prewarm: bool) -> Queue:
    """Where a job's `job.generate` goes. Pre-generation waits behind users' jobs; a
    hosted job's attempt is a few short calls with waits between them, so dozens share one
    process's threads, while a local render keeps a core busy and gets a process."""
    if prewarm:
        return Queue.PREWARM
    return Queue.JOBS if provider == "local" else Queue.HOSTED
