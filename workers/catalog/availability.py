"""Whether a catalog model can run here and now, and why not when it cannot."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from workers.catalog.models import ModelSpec
from workers.catalog.registry import all_models
from workers.provider.registry import missing_key
from workers.settings import get_settings


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str | None = None


def availability(model: ModelSpec, today: date | None = None) -> Availability:
    today = today or date.today()
    retired = model.retires_on is not None and model.retires_on <= today
    if retired and not get_settings().allow_retired_models:
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
    setting = missing_key(model.provider)
    if setting is not None:
        return Availability(
            False, f"the {model.provider} provider is not configured: set {setting}"
        )
    return Availability(True)
