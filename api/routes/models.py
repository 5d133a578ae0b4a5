from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel

from workers.catalog.availability import availability
from workers.catalog.describe import accepted_inputs, input_summary
from workers.catalog.models import Task, Tier
from workers.catalog.pricing import effective_price
from workers.catalog.registry import all_models
from workers.media.formats import MediaKind

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
    aliases: list[str]
    provider: str
    kind: str
    task: str
    tier: str
    description: str
    typical_latency_s: float
    accepted_inputs: list[str]  # the vocabulary fields this model takes
    inputs: dict[str, Any]  # their bounds and defaults
    retires_on: str | None
    available: bool
    unavailable_reason: str | None
    price: PriceRead


@router.get("", response_model=list[ModelRead])
def list_models(
    kind: MediaKind | None = None,
    task: Task | None = None,
    tier: Tier | None = None,
    provider: str | None = Query(default=None, description="fal, openai, gemini, replicate, local"),
) -> list[ModelRead]:
    """The catalog, or the models matching every filter given."""
    models = []
    for spec in all_models():
        if (kind and spec.kind != kind) or (task and spec.task != task):
            continue
        if (tier and spec.tier != tier) or (provider and spec.provider != provider):
            continue
        usable = availability(spec)
        price = effective_price(spec)
        models.append(
            ModelRead(
                id=spec.id,
                aliases=list(spec.aliases),
                provider=spec.provider,
                kind=spec.kind,
                task=spec.task,
                tier=spec.tier,
                description=spec.description,
                typical_latency_s=spec.typical_latency_s,
                accepted_inputs=accepted_inputs(spec),
                inputs=input_summary(spec),
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
