"""What an `auto` request that nothing fits could ask instead: a shorter duration or a
lower resolution of one of its candidate models, with the latency expected for it (the
p90 recorded for that duration and resolution once enough such jobs ended, else the
catalog's typical latency)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from workers.catalog.models import ModelSpec, Tier
from workers.errors import FieldError
from workers.job.auto import recorded
from workers.media.formats import PRESETS

RANK = {Tier.FAST: 0, Tier.BALANCED: 1, Tier.QUALITY: 2}
Option = tuple[int, float, str, str]  # tier rank, how much is kept, message, model


def alternatives(
    session: Session,
    usable: Sequence[tuple[ModelSpec, dict[str, Any]]],
    *,
    budget_ms: float,
    start: datetime,
    end: datetime,
    min_jobs: int,
) -> list[FieldError]:
    """At most one error at `input.duration` and one at `input.resolution`: the option that
    keeps the most of the request (then the highest tier) among those expected to fit."""
    shapes = recorded.shapes(session, models=[s.id for s, _ in usable], start=start, end=end)

    def expected(spec: ModelSpec, duration: float | None, resolution: str) -> tuple[float, str]:
        figures = shapes.get((spec.id, duration, resolution))
        if figures is not None and figures.jobs >= min_jobs:
            return figures.p90_ms, f"recorded, {figures.jobs} jobs"
        return spec.typical_latency_s * 1000, "catalog"

    shorter: list[Option] = []
    lower: list[Option] = []
    for spec, canonical in usable:
        duration = canonical.get("duration")
        resolution = recorded.label(canonical)
        if duration is not None:
            lengths = {d for (m, d, r) in shapes if m == spec.id and r == resolution}
            for length in sorted(d for d in lengths if d is not None and d < float(duration)):
                ms, basis = expected(spec, length, resolution)
                if ms <= budget_ms:
                    says = (
                        f"{length:g} s instead of {float(duration):g} s would fit: {spec.id} "
                        f"at {resolution}, p90 {ms / 1000:.1f} s ({basis})"
                    )
                    shorter.append((RANK[spec.tier], length, says, spec.id))
        pixels = _pixels(resolution)
        offered = spec.inputs.resolution.presets if spec.inputs.resolution else ()
        for preset in offered:
            smaller = _pixels(preset)
            if pixels is None or smaller is None or smaller >= pixels:
                continue
            asked = None if duration is None else float(duration)
            ms, basis = expected(spec, asked, preset)
            if ms <= budget_ms:
                at = "" if asked is None else f" for {asked:g} s"
                says = (
                    f"{preset} instead of {resolution} would fit: {spec.id}{at}, "
                    f"p90 {ms / 1000:.1f} s ({basis})"
                )
                lower.append((RANK[spec.tier], float(smaller), says, spec.id))
    errors = []
    if shorter:
        best = max(shorter, key=lambda o: (o[1], o[0]))
        errors.append(FieldError(loc=("input", "duration"), msg=best[2]))
    if lower:
        best = max(lower, key=lambda o: (o[1], o[0]))
        errors.append(FieldError(loc=("input", "resolution"), msg=best[2]))
    return errors


def _pixels(resolution: str) -> int | None:
    if resolution in PRESETS:
        width, height = PRESETS[resolution]
        return width * height
    width_s, _, height_s = resolution.partition("x")
    if width_s.isdigit() and height_s.isdigit():
        return int(width_s) * int(height_s)
    return None
