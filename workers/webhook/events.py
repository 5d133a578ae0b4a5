"""The events a webhook can be sent for. Imports nothing of the project (schemas use it)."""

from __future__ import annotations

from enum import StrEnum


class WebhookEvent(StrEnum):
    """A job's events; a batch has one, `completed` (every item ended), typed `batch.completed`."""

    COMPLETED = "completed"  # the job ended: succeeded, failed or canceled
    STARTED = "started"  # a worker started the job (its first attempt)
    PROGRESS = "progress"  # a phase ended (throttled per job)
    PREVIEW = "preview"  # an early frame or a preview image is ready

    @property
    def type(self) -> str:
        """The Standard Webhooks `type` of a job's payload: hierarchical, full-stop delimited."""
        return self.type_of(JOB)

    def type_of(self, subject: str) -> str:
        """The `type` of this event of a `JOB` or a `BATCH`: `job.completed`, `batch.completed`."""
        return f"{subject}.{self.value}"


# What an event is about: the prefix of its `type`.
JOB, BATCH = "job", "batch"


DEFAULT_EVENTS: tuple[WebhookEvent, ...] = (WebhookEvent.COMPLETED,)
