"""The events a webhook can be sent for. Imports nothing of the project (schemas use it)."""

from __future__ import annotations

from enum import StrEnum


class WebhookEvent(StrEnum):
    COMPLETED = "completed"  # the job ended: succeeded, failed or canceled
    STARTED = "started"  # a worker started the job (its first attempt)
    PROGRESS = "progress"  # a phase ended (throttled per job)
    PREVIEW = "preview"  # an early frame or a preview image is ready

    @property
    def type(self) -> str:
        """The Standard Webhooks `type` of the payload: hierarchical, full-stop delimited."""
        return f"job.{self.value}"


DEFAULT_EVENTS: tuple[WebhookEvent, ...] = (WebhookEvent.COMPLETED,)
