"""Every Celery queue, and what belongs in it. Routing lives here and nowhere else."""

from __future__ import annotations

from enum import StrEnum


class Queue(StrEnum):
    JOBS = "jobs"  # users' generation jobs: latency matters
    PREWARM = "prewarm"  # cache pre-generation: runs when users' jobs leave room
    MAINTENANCE = "maintenance"  # sweeper and other short housekeeping
    # Webhooks out: a slow receiver holds a webhook worker, never a job's; run workers for
    # it apart (`up` does: `worker --queues webhooks --pool threads`).
    WEBHOOKS = "webhooks"


ROUTES: dict[str, dict[str, str]] = {
    "job.generate": {"queue": Queue.JOBS},
    "job.finalize": {"queue": Queue.JOBS},
    "job.cancel_remote": {"queue": Queue.MAINTENANCE},
    "job.sweep": {"queue": Queue.MAINTENANCE},
    "prewarm.run": {"queue": Queue.MAINTENANCE},
    "prewarm.top_up": {"queue": Queue.MAINTENANCE},
    "webhook.deliver": {"queue": Queue.WEBHOOKS},
    "webhook.sweep": {"queue": Queue.WEBHOOKS},
}
