"""What the catalog knows about a model: one entry of `models.yaml` (or of `MODELS_FILE`)."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workers.catalog.inputs import Inputs
from workers.catalog.pricing import Price
from workers.media.formats import MediaKind


class Tier(StrEnum):
    FAST = "fast"
    BALANCED = "balanced"
    QUALITY = "quality"


class Task(StrEnum):
    TEXT_TO_VIDEO = "text-to-video"
    IMAGE_TO_VIDEO = "image-to-video"
    TEXT_TO_IMAGE = "text-to-image"
    IMAGE_TO_IMAGE = "image-to-image"
    UPSCALE = "upscale"
    REMOVE_BACKGROUND = "remove-background"
    INTERPOLATE = "interpolate"


# What each task makes, and whether it starts from a prompt or from an image.
TASK_KIND = {
    Task.TEXT_TO_VIDEO: MediaKind.VIDEO,
    Task.IMAGE_TO_VIDEO: MediaKind.VIDEO,
    Task.INTERPOLATE: MediaKind.VIDEO,
    Task.TEXT_TO_IMAGE: MediaKind.IMAGE,
    Task.IMAGE_TO_IMAGE: MediaKind.IMAGE,
    Task.UPSCALE: MediaKind.IMAGE,
    Task.REMOVE_BACKGROUND: MediaKind.IMAGE,
}
NEEDS_PROMPT = {Task.TEXT_TO_VIDEO, Task.TEXT_TO_IMAGE}
NEEDS_IMAGE = {Task.IMAGE_TO_VIDEO, Task.IMAGE_TO_IMAGE, Task.UPSCALE, Task.REMOVE_BACKGROUND}
NEEDS_VIDEO = {Task.INTERPOLATE}


class ModelSpec(BaseModel):
    """One model: who serves it, what it makes, what it takes and how that reaches the
    wire, where its files are in the answer, and what it costs."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(min_length=1)
    aliases: tuple[str, ...] = ()
    provider: str = Field(min_length=1)
    wire_id: str | None = None  # the provider's own id, when it differs from ours
    kind: MediaKind
    task: Task
    tier: Tier
    description: str
    typical_latency_s: float = Field(gt=0)
    inputs: Inputs
    # Wire fields always sent, whatever the caller asks (e.g. `output_format: png`).
    fixed: dict[str, Any] = Field(default_factory=dict)
    # Where the files are in the provider's answer (fal: `video`, `images`, `image`;
    # Replicate: `output`); empty = the provider's usual place for this kind.
    output: str | None = None
    retires_on: date | None = None
    price: Price

    @model_validator(mode="after")
    def _coherent(self) -> ModelSpec:
        if TASK_KIND[self.task] is not self.kind:
            raise ValueError(f"task {self.task} makes {TASK_KIND[self.task]}, not {self.kind}")
        if self.task in NEEDS_PROMPT and self.inputs.prompt is None:
            raise ValueError(f"{self.task} models take a prompt: add inputs.prompt")
        if self.task in NEEDS_IMAGE and self.inputs.image_url is None:
            raise ValueError(f"{self.task} models take an image: add inputs.image_url")
        if self.task in NEEDS_VIDEO and self.inputs.video_url is None:
            raise ValueError(f"{self.task} models take a video: add inputs.video_url")
        if self.kind is not MediaKind.VIDEO and self.inputs.duration is not None:
            raise ValueError(f"{self.kind} models take no duration")
        if self.kind is not MediaKind.IMAGE and self.inputs.num_images is not None:
            raise ValueError("num_images is for image models")
        if self.provider == "local" and (self.fixed or self.output):
            raise ValueError("local models have no wire: no fixed fields, no output path")
        return self

    @property
    def provider_model(self) -> str:
        return self.wire_id or self.id

    @property
    def names(self) -> tuple[str, ...]:
        """Every name this model answers to: its id first, then its aliases."""
        return (self.id, *self.aliases)
