"""Preview first: the image request that previews a video request.

The catalog's fastest available image model of the video's provider renders the prompt
with ", first frame of video" appended, at the video's aspect ratio; a provider without
image models falls back to the built-in `local/image`.
"""

from __future__ import annotations

from typing import Any

from workers.catalog.availability import availability
from workers.catalog.models import ModelSpec
from workers.catalog.registry import all_models
from workers.media.formats import MediaKind

PROMPT_SUFFIX = ", first frame of video"
LONG_EDGE = 1024  # a preview needs no more


def preview_model(video: ModelSpec) -> ModelSpec | None:
    images = [m for m in all_models() if m.kind is MediaKind.IMAGE and availability(m).available]
    same = [m for m in images if m.provider == video.provider]
    local = [m for m in images if m.provider == "local"]
    candidates = same or local
    return min(candidates, key=lambda m: m.typical_latency_s) if candidates else None


def preview_input(image: ModelSpec, video_input: dict[str, Any]) -> dict[str, Any]:
    """The image model's input: the video's prompt and shape, in what the model accepts."""
    request: dict[str, Any] = {"prompt": f"{video_input['prompt']}{PROMPT_SUFFIX}"}
    width, height = video_input.get("width"), video_input.get("height")
    aspect = video_input.get("aspect_ratio")
    resolution, aspects = image.inputs.resolution, image.inputs.aspect_ratio
    if resolution is not None and resolution.custom is not None and width and height:
        low, high = resolution.custom
        scale = min(1.0, min(LONG_EDGE, high) / max(width, height))
        request["resolution"] = {
            "width": max(low, _even(width * scale)),
            "height": max(low, _even(height * scale)),
        }
    elif aspects is not None and aspect in aspects.choices:
        request["aspect_ratio"] = aspect
    return request


def _even(value: float) -> int:
    return max(2, int(value) // 2 * 2)
