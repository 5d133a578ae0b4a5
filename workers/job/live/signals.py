"""Progress from a hosted provider's status: its own signal where it gives one (fal's queue
position and logs, OpenAI's `progress`, a percentage in Replicate's logs), otherwise an
estimate from the time since submission against the model's typical latency."""

from __future__ import annotations

import uuid
from typing import Any

from workers.job.live import progress, publish
from workers.job.models import Phase
from workers.provider.base import RemoteState, RemoteStatus


def publish_remote(
    job_id: uuid.UUID, status: RemoteStatus, *, elapsed_s: float, expected_s: float
) -> None:
    extra: dict[str, Any] = {}
    if status.state is RemoteState.QUEUED:
        if status.queue_position is not None:
            extra["queue_position"] = status.queue_position
        waited = progress.estimated_fraction(elapsed_s, expected_s * 0.2)
        publish.progress(
            job_id, Phase.MODEL_LOADING, progress.overall(Phase.MODEL_LOADING, waited), **extra
        )
        return
    if status.state is not RemoteState.RUNNING:
        return
    fraction = status.progress
    if fraction is None:
        fraction = progress.percent_in_logs(status.logs)
    if fraction is None:
        fraction = progress.estimated_fraction(elapsed_s, expected_s)
        extra["estimated"] = True
    if status.logs:
        extra["message"] = status.logs[-1][:200]
    publish.progress(
        job_id, Phase.GENERATION, progress.overall(Phase.GENERATION, fraction), **extra
    )
