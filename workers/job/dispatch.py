"""Sending a job's task: the only place that turns a job id into a Celery message."""

from __future__ import annotations

import uuid

from workers.celery_app import app
from workers.queues import Queue


def celery_priority(priority: int) -> int:
    """Our 9 is most urgent; kombu's Redis transport serves 0 first."""
    return 9 - priority


def send_finalize(job_id: uuid.UUID) -> None:
    app.send_task("job.finalize", args=[str(job_id)], queue=Queue.JOBS, priority=0)


def send_cancel_remote(job_id: uuid.UUID) -> None:
    app.send_task("job.cancel_remote", args=[str(job_id)], queue=Queue.MAINTENANCE)


def send_generate(job_id: uuid.UUID, priority: int, queue: Queue = Queue.JOBS) -> None:
    app.send_task(
        "job.generate", args=[str(job_id)], queue=queue, priority=celery_priority(priority)
    )
