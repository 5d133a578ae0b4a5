from __future__ import annotations

from dataclasses import asdict
from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from workers.catalog.availability import availability
from workers.catalog.registry import all_models
from workers.media.formats import PRESETS

router = APIRouter(prefix="/v1/models", tags=["models"])


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


@router.get("", response_model=list[ModelRead])
def list_models() -> list[ModelRead]:
    models = []
    for spec in all_models():
        usable = availability(spec)
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
            )
        )
    return models
