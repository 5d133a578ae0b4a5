"""A model's inputs told to callers: which fields it accepts, and their bounds as a flat map
(the shape `GET /v1/models` has always given, which the playground reads)."""

from __future__ import annotations

from typing import Any

from workers.catalog.models import ModelSpec
from workers.media.formats import PRESETS


def accepted_inputs(spec: ModelSpec) -> list[str]:
    names = spec.inputs.names()
    return names if spec.provider == "local" else [*names, "provider_input"]


def input_summary(spec: ModelSpec) -> dict[str, Any]:
    inputs = spec.inputs
    out: dict[str, Any] = {}
    if inputs.prompt is not None:
        out["max_prompt_length"] = inputs.prompt.max_length
    if inputs.negative_prompt is not None:
        out["max_negative_prompt_length"] = inputs.negative_prompt.max_length
    duration = inputs.duration
    if duration is not None:
        if duration.choices is not None and not duration.trim:
            out["durations"] = list(duration.choices)
        else:
            out["duration_range"] = list(duration.bounds())
        if duration.default is not None:
            out["default_duration"] = duration.default
        if duration.only_at_resolution:
            out["durations_at"] = {r: list(d) for r, d in duration.only_at_resolution.items()}
        if duration.trim:
            out["duration_trimmed"] = True  # the model makes more; the file is cut to it
    resolution = inputs.resolution
    if resolution is not None:
        if resolution.presets:
            out["resolutions"] = list(resolution.presets)
            out["resolution_sizes"] = {r: list(PRESETS[r]) for r in resolution.presets}
        if resolution.custom is not None:
            out["custom_size"] = list(resolution.custom)
        default = resolution.default_size()
        if default is not None:
            out["default_size"] = list(default)
    if inputs.aspect_ratio is not None:
        out["aspect_ratios"] = list(inputs.aspect_ratio.choices)
        if inputs.aspect_ratio.default is not None:
            out["default_aspect_ratio"] = inputs.aspect_ratio.default
    if inputs.fps is not None:
        fps = inputs.fps
        out["fps"] = list(fps.choices) if fps.choices is not None else [fps.min, fps.max]
    if inputs.num_images is not None:
        out["max_num_images"] = inputs.num_images.max
    out["takes_seed"] = inputs.seed is not None
    return out
