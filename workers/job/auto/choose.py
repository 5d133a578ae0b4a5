"""Pick the model for a `"model": "auto"` request: the highest tier (up to the one asked
for) among the available models of the task that take the input and whose expected p90
fits `max_latency_s`; the fastest of that tier. A model's expected p90 for the job is the
one recorded for similar jobs (`recorded.similar`) once `AUTO_MIN_JOBS` of them ended in
`AUTO_WINDOW`, else the catalog's typical latency. When none fits, the refusal names a
shorter duration or a lower resolution that would, with its expected latency."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workers.catalog.availability import availability
from workers.catalog.models import ModelSpec, Tier
from workers.catalog.registry import all_models
from workers.catalog.validation import normalize_input
from workers.db.base import utcnow
from workers.errors import FieldError, InvalidInput
from workers.job.auto import recorded, suggest
from workers.job.schemas import JobCreate
from workers.settings import get_settings
from workers.stats.latency import parse_window

RANK = {Tier.FAST: 0, Tier.BALANCED: 1, Tier.QUALITY: 2}


@dataclass(frozen=True)
class Candidate:
    spec: ModelSpec
    canonical: dict[str, Any]
    expected_ms: float
    basis: str  # "recorded" or "catalog"
    jobs: int  # similar jobs recorded

    def describe(self, budget_ms: float | None) -> dict[str, Any]:
        return {
            "model": self.spec.id,
            "tier": str(self.spec.tier),
            "expected_p90_s": round(self.expected_ms / 1000, 3),
            "basis": self.basis,
            "jobs": self.jobs,
            "fits": budget_ms is None or self.expected_ms <= budget_ms,
        }

    def says(self) -> str:
        seen = f"recorded, {self.jobs} jobs" if self.basis == "recorded" else "catalog"
        return f"{self.spec.id} p90 {self.expected_ms / 1000:.1f} s ({seen})"


def choose(session: Session, request: JobCreate) -> tuple[JobCreate, dict[str, Any]]:
    """The request with the chosen model named, and the record of the choice."""
    assert request.task is not None  # JobCreate's validator: auto needs a task
    settings = get_settings()
    end = utcnow()
    start = end - parse_window(settings.auto_window)
    ceiling = request.tier or Tier.QUALITY
    budget_ms = None if request.max_latency_s is None else request.max_latency_s * 1000
    candidates = _candidates(session, request, ceiling, start, end, settings.auto_min_jobs)
    fitting = [c for c in candidates if budget_ms is None or c.expected_ms <= budget_ms]
    if not fitting:
        assert budget_ms is not None
        raise _nothing_fits(session, request, candidates, budget_ms, start, end)
    best = max(fitting, key=lambda c: (RANK[c.spec.tier], -c.expected_ms))
    reason = (
        f"highest tier up to {ceiling} of {request.task}"
        + (f" expected within {request.max_latency_s:g} s" if budget_ms is not None else "")
        + f"; fastest of its tier: {best.says()}"
    )
    choice = {
        "model": best.spec.id,
        "task": str(request.task),
        "tier": None if request.tier is None else str(request.tier),
        "max_latency_s": request.max_latency_s,
        "expected_p90_s": round(best.expected_ms / 1000, 3),
        "basis": best.basis,
        "reason": reason,
        "candidates": [c.describe(budget_ms) for c in candidates],
    }
    chosen = request.model_copy(
        update={"model": best.spec.id, "task": None, "tier": None, "max_latency_s": None}
    )
    return chosen, choice


def _candidates(
    session: Session,
    request: JobCreate,
    ceiling: Tier,
    start: datetime,
    end: datetime,
    min_jobs: int,
) -> list[Candidate]:
    """Every available model of the task up to `ceiling` that takes the input."""
    usable: list[tuple[ModelSpec, dict[str, Any]]] = []
    refused: list[str] = []
    for spec in all_models():
        if spec.task != request.task or RANK[spec.tier] > RANK[ceiling]:
            continue
        if not availability(spec).available:
            continue
        try:
            usable.append((spec, normalize_input(spec, request.input)))
        except InvalidInput as exc:
            refused.append(f"{spec.id}: {exc}")
    if not usable:
        why = "; ".join(refused) or "none is available"
        raise InvalidInput.at(
            "model", msg=f"auto: no {request.task} model up to tier {ceiling} takes this: {why}"
        )
    candidates = []
    for spec, canonical in usable:
        figures = recorded.similar(
            session,
            models=[spec.id],
            duration=_duration(canonical),
            resolution=recorded.label(canonical),
            start=start,
            end=end,
        ).get(spec.id)
        if figures is not None and figures.jobs >= min_jobs:
            candidates.append(Candidate(spec, canonical, figures.p90_ms, "recorded", figures.jobs))
        else:
            jobs = 0 if figures is None else figures.jobs
            typical_ms = spec.typical_latency_s * 1000
            candidates.append(Candidate(spec, canonical, typical_ms, "catalog", jobs))
    return candidates


def _duration(canonical: dict[str, Any]) -> float | None:
    value = canonical.get("duration")
    return None if value is None else float(value)


def _nothing_fits(
    session: Session,
    request: JobCreate,
    candidates: list[Candidate],
    budget_ms: float,
    start: datetime,
    end: datetime,
) -> InvalidInput:
    ranked = sorted(candidates, key=lambda c: c.expected_ms)
    errors = [
        FieldError(
            loc=("max_latency_s",),
            msg=f"auto: no {request.task} model is expected within "
            f"{budget_ms / 1000:g} s for this input: " + ", ".join(c.says() for c in ranked),
        )
    ]
    errors += suggest.alternatives(
        session,
        [(c.spec, c.canonical) for c in candidates],
        budget_ms=budget_ms,
        start=start,
        end=end,
        min_jobs=get_settings().auto_min_jobs,
    )
    return InvalidInput(errors)
