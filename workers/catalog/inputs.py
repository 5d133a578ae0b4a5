"""The one vocabulary of inputs, and how a model declares each one it takes (as data).

Every model of a task is called with the same fields: `prompt`, `negative_prompt`,
`duration` (seconds), `resolution`, `aspect_ratio`, `fps`, `seed`, `num_images`,
`image_url`, `video_url`, plus `provider_input` for a provider's own fields. An entry in the catalog
lists the ones its model takes; each carries what values the model honours and where the
value goes on the wire:

- `to`: the wire field, a dotted path (`parameters.durationSeconds`; a number is a list
  index: `instances.0.prompt`). No `to`: the input is honoured without being sent (Sora's
  aspect ratio is in its `size`; a trimmed duration is cut by us).
- `as`: the wire type (`string` for Kling's `"5"`), and for a resolution its shape.
- `values`: a table from our value to the provider's spelling, applied last.

A field the entry does not list is refused with a 422 that names it.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from workers.media.formats import PRESETS

Preset = Literal["480p", "720p", "1080p"]
WireType = Literal["number", "integer", "string"]


class Spec(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    values: dict[str, Any] = Field(default_factory=dict)


class PromptSpec(Spec):
    to: str | None = "prompt"
    max_length: int = Field(default=2000, ge=1)


class NegativePromptSpec(Spec):
    to: str | None = "negative_prompt"
    max_length: int = Field(default=2000, ge=1)


class FramesSpec(BaseModel):
    """A duration sent as a frame count at the model's frame rate: the smallest count the
    model offers that covers the asked seconds (`choices`, or `min` + k × `step` up to `max`)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    fps: float = Field(gt=0)
    choices: tuple[int, ...] | None = None
    min: int | None = Field(default=None, ge=1)
    max: int | None = Field(default=None, ge=1)
    step: int = Field(default=1, ge=1)

    @model_validator(mode="after")
    def _one_form(self) -> FramesSpec:
        if (self.choices is None) == (self.min is None or self.max is None):
            raise ValueError("give either choices or min and max (frame counts)")
        return self

    def counts(self) -> tuple[int, ...]:
        if self.choices is not None:
            return tuple(sorted(self.choices))
        assert self.min is not None
        assert self.max is not None
        return tuple(range(self.min, self.max + 1, self.step))

    def covering(self, seconds: float) -> int:
        """The fewest frames lasting at least `seconds` (the longest when none does)."""
        counts = self.counts()
        return next((n for n in counts if n / self.fps >= seconds - 1e-9), counts[-1])


class DurationSpec(Spec):
    """Seconds of video. The model takes exactly one of `choices`, or any value from `min`
    to `max`. With `trim`, it makes at least what is asked (the smallest choice or frame
    count covering it, or its own fixed length when nothing is sent) and we cut the file
    to the asked length while encoding."""

    choices: tuple[float, ...] | None = None
    min: float | None = Field(default=None, gt=0)
    max: float | None = Field(default=None, gt=0)
    default: float | None = Field(default=None, gt=0)
    to: str | None = None
    as_: WireType = Field(default="number", alias="as")
    frames: FramesSpec | None = None
    trim: bool = False
    # Resolutions the model offers only at some durations (Veo: 1080p only for 8 s).
    only_at_resolution: dict[str, tuple[float, ...]] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _coherent(self) -> DurationSpec:
        if self.frames is not None and self.to is None:
            raise ValueError("frames needs `to`: the wire field that takes the frame count")
        if self.choices is None and self.frames is None and self.max is None:
            raise ValueError("give choices, frames or max (seconds)")
        if self.choices is not None and self.frames is not None:
            raise ValueError("give choices or frames, not both")
        low, high = self.bounds()
        if self.default is not None and not self.allows(self.default):
            raise ValueError(f"default {self.default:g} is not an allowed duration")
        if low > high:
            raise ValueError(f"min {low:g} is above the longest duration {high:g}")
        return self

    def bounds(self) -> tuple[float, float]:
        """The shortest and longest seconds a caller may ask for."""
        if self.choices is not None and not self.trim:
            return min(self.choices), max(self.choices)
        if self.frames is not None:
            longest = self.frames.counts()[-1] / self.frames.fps
        elif self.choices is not None:
            longest = max(self.choices)
        else:
            assert self.max is not None
            longest = self.max
        return (self.min if self.min is not None else 1.0), min(self.max or longest, longest)

    def allows(self, seconds: float) -> bool:
        if self.choices is not None and not self.trim:
            return seconds in self.choices
        low, high = self.bounds()
        return low <= seconds <= high

    def wire_seconds(self, seconds: float) -> float:
        """What the model is asked to make for `seconds` (at least as long)."""
        if self.frames is not None:
            return self.frames.covering(seconds) / self.frames.fps
        if self.choices is not None:
            return min((c for c in self.choices if c >= seconds), default=max(self.choices))
        return seconds


Size = tuple[int, int]


class ResolutionSpec(Spec):
    """The frame size. `presets` are the named sizes offered (rotated by the aspect ratio);
    `custom` the smallest and largest edge of an explicit `{"width", "height"}`. On the
    wire (`as`): `preset` ("720p"), `size` ("1280x720"), `object` ({"width", "height"}),
    or `fields`: `to` is the width's field and `to_height` the height's."""

    presets: tuple[Preset, ...] = ()
    custom: tuple[int, int] | None = None
    default: Preset | Size | None = None
    to: str | None = None
    to_height: str | None = None
    as_: Literal["preset", "size", "object", "fields"] = Field(default="preset", alias="as")

    @model_validator(mode="after")
    def _coherent(self) -> ResolutionSpec:
        if not self.presets and self.custom is None:
            raise ValueError("give presets, custom or both")
        if self.custom is not None and not 1 <= self.custom[0] <= self.custom[1]:
            raise ValueError("custom is [smallest edge, largest edge]")
        if isinstance(self.default, str) and self.default not in self.presets:
            raise ValueError(f"default {self.default} is not among the presets")
        if (self.as_ == "fields") != (self.to_height is not None):
            raise ValueError("`as: fields` and `to_height` go together")
        if self.as_ == "preset" and self.to is not None and self.custom is not None:
            raise ValueError("a model that takes presets on the wire takes no custom size")
        return self

    def default_size(self) -> Size | None:
        if isinstance(self.default, str):
            return PRESETS[self.default]
        return self.default


class AspectRatioSpec(Spec):
    choices: tuple[str, ...]
    default: str | None = None
    to: str | None = None

    @model_validator(mode="after")
    def _default_offered(self) -> AspectRatioSpec:
        if self.default is not None and self.default not in self.choices:
            raise ValueError(f"default {self.default} is not among the choices")
        return self


class FpsSpec(Spec):
    choices: tuple[int, ...] | None = None
    min: int = Field(default=1, ge=1)
    max: int = Field(default=60, ge=1)
    to: str | None = None


class SeedSpec(Spec):
    to: str | None = "seed"


class NumImagesSpec(Spec):
    max: int = Field(default=1, ge=1)
    to: str | None = "num_images"


class ImageUrlSpec(Spec):
    to: str | None = "image_url"


class VideoUrlSpec(Spec):
    """The video a model works on (frame interpolation)."""

    to: str | None = "video_url"


class Inputs(BaseModel):
    """The inputs a model takes; an absent one is refused."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    prompt: PromptSpec | None = None
    negative_prompt: NegativePromptSpec | None = None
    duration: DurationSpec | None = None
    resolution: ResolutionSpec | None = None
    aspect_ratio: AspectRatioSpec | None = None
    fps: FpsSpec | None = None
    seed: SeedSpec | None = None
    num_images: NumImagesSpec | None = None
    image_url: ImageUrlSpec | None = None
    video_url: VideoUrlSpec | None = None

    def names(self) -> list[str]:
        return [name for name in type(self).model_fields if getattr(self, name) is not None]

    def wire_targets(self) -> set[str]:
        """Every wire field these inputs can set (a caller's `provider_input` may not)."""
        targets: set[str] = set()
        for name in self.names():
            spec = getattr(self, name)
            for attr in ("to", "to_height"):
                path = getattr(spec, attr, None)
                if path:
                    targets.add(path)
        return targets


VOCABULARY = (*Inputs.model_fields, "provider_input")
