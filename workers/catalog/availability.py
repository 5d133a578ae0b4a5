"""Whether a catalog model can run here and now, and why not when it cannot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workers.catalog.models import ModelSpec
from workers.catalog.registry import all_models

# Providers whose adapters the worker runs. Hosted adapters join as they are wired in.
RUNNABLE_PROVIDERS = frozenset({"local"})


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str | None = None


def availability(model: ModelSpec, today: date | None = None) -> Availability:
    today = today or date.today()
    if model.retires_on is not None and model.retires_on <= today:
        alternatives = [
            m.id
            for m in all_models()
            if m.kind == model.kind
            and m.tier == model.tier
            and m.id != model.id
            and (m.retires_on is None or m.retires_on > today)
        ]
        live = ", ".join(alternatives) or "none in this tier"
        return Availability(
            False, f"{model.id} was retired on {model.retires_on}; live {model.tier} models: {live}"
        )
    if model.provider not in RUNNABLE_PROVIDERS:
        return Availability(False, f"the {model.provider} provider is not enabled on this server")
    return Availability(True)
