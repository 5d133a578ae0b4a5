"""What the catalog knows about a model."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

from workers.catalog.pricing import FREE, Price
from workers.media.formats import MediaKind


class Tier(StrEnum):
    FAST = "fast"
    BALANCED = "balanced"
    QUALITY = "quality"


@dataclass(frozen=True)
class InputSpec:
    """The inputs a model accepts. `None` means the model does not take that input."""

    max_prompt_length: int = 2000
    durations: tuple[float, ...] | None = None  # a fixed set of allowed seconds …
    duration_range: tuple[float, float] | None = None  # … or any value in [min, max]
    default_duration: float | None = None
    resolutions: tuple[str, ...] | None = None
    custom_size: tuple[int, int] | None = None  # min and max edge for {"width", "height"}
    default_size: tuple[int, int] | None = None
    aspect_ratios: tuple[str, ...] | None = None
    default_aspect_ratio: str | None = None
    # Resolutions a model offers only at some durations (Veo: 1080p for 8 s clips only).
    durations_at: dict[str, tuple[float, ...]] = field(default_factory=dict)
    takes_seed: bool = True


@dataclass(frozen=True)
class ModelSpec:
    id: str
    provider: str
    kind: MediaKind
    tier: Tier
    description: str
    typical_latency_s: float
    inputs: InputSpec = field(default_factory=InputSpec)
    retires_on: date | None = None
    wire_id: str | None = None  # the provider's own id, when it differs from ours
    # What the provider charges; the registry sets every model's from `catalog.prices`.
    price: Price = FREE

    @property
    def provider_model(self) -> str:
        return self.wire_id or self.id
