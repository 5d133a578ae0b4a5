"""How long a phase of a job usually takes: from the recorded phases of similar jobs (the
same model, a similar duration and size), else from the catalog's typical latency."""

from __future__ import annotations

import statistics
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.catalog.models import ModelSpec
from workers.job.models import Job, JobPhase, Phase

SAMPLE = 50  # recent phases of the model looked at
# The share of a model's typical latency a phase takes when nothing was recorded yet.
TYPICAL_SHARE: dict[str, float] = {Phase.MODEL_LOADING: 0.15, Phase.GENERATION: 0.75}


def expected_seconds(
    session: Session, spec: ModelSpec, input_: dict[str, Any], phase: Phase
) -> float:
    rows = session.execute(
        select(JobPhase.duration_ms, Job.input)
        .join(Job, Job.id == JobPhase.job_id)
        .where(Job.model == spec.id, JobPhase.name == phase)
        .order_by(JobPhase.id.desc())
        .limit(SAMPLE)
    ).all()
    similar = [ms for ms, other in rows if _similar(input_, other)]
    durations = similar or [ms for ms, _ in rows]
    if durations:
        return float(statistics.median(durations)) / 1000
    return spec.typical_latency_s * TYPICAL_SHARE.get(phase, 0.05)


def _similar(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Within a quarter of the duration and half of the pixel count."""
    return _close(a.get("duration"), b.get("duration"), 0.25) and _close(
        _pixels(a), _pixels(b), 0.5
    )


def _pixels(input_: dict[str, Any]) -> float | None:
    width, height = input_.get("width"), input_.get("height")
    if isinstance(width, int | float) and isinstance(height, int | float):
        return float(width * height)
    return None


def _close(a: Any, b: Any, tolerance: float) -> bool:
    if not isinstance(a, int | float) or not isinstance(b, int | float):
        return bool(a == b)
    return abs(a - b) <= tolerance * max(abs(a), abs(b), 1e-9)
