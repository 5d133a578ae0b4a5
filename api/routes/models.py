from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from workers.catalog.availability import availability
from workers.catalog.pricing import effective_price
from workers.catalog.registry import all_models
from workers.media.formats import PRESETS

router = APIRouter(prefix="/v1/models", tags=["models"])


class PriceRead(BaseModel):
    """The model's price as its provider charges it, with where the figure comes from."""

    unit: str  # free, second, image, megapixel, character or request
    usd: float  # per `per` units
    per: int
    by_resolution: dict[str, float]
    assumed_seconds: float | None
    round_up: bool
    charges_failures: bool
    source: str
    checked: str | None
    note: str


class ModelRead(BaseModel):
    id: str
    provider: str
    kind: str
    tier: str
    description: str
    typical_latency_s: float
    inputs: dict[str, Any]
    retires_on: str | None
    available: bool
    unavailable_reason: str | None
    price: PriceRead


@router.get("", response_model=list[ModelRead])
def list_models() -> list[ModelRead]:
    models = []
    for spec in all_models():
        usable = availability(spec)
        price = effective_price(spec)
        inputs = {k: v for k, v in asdict(spec.inputs).items() if v not in (None, {})}
        if spec.inputs.resolutions:
            inputs["resolution_sizes"] = {r: PRESETS[r] for r in spec.inputs.resolutions}
        models.append(
            ModelRead(
                id=spec.id,
                provider=spec.provider,
                kind=spec.kind,
                tier=spec.tier,
                description=spec.description,
                typical_latency_s=spec.typical_latency_s,
                inputs=inputs,
                retires_on=spec.retires_on.isoformat() if spec.retires_on else None,
                available=usable.available,
                unavailable_reason=usable.reason,
                price=PriceRead(
                    unit=price.unit,
                    usd=float(price.usd),
                    per=price.per,
                    by_resolution={k: float(v) for k, v in price.by_resolution.items()},
                    assumed_seconds=price.assumed_seconds,
                    round_up=price.round_up,
                    charges_failures=price.charges_failures,
                    source=price.source,
                    checked=price.checked.isoformat() if price.checked else None,
                    note=price.note,
                ),
            )
        )
    return models
