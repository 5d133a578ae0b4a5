"""Turn a request's raw `input` into the canonical input a model runs on, or say what is wrong.

The canonical input stays in our vocabulary (the cache keys on it; `catalog.wire` maps it
onto the model's own fields). Defaults are filled in, and it always carries `width`/
`height` when the model takes a size, so a preset and the explicit size it stands for are
the same input. Every refusal is a 422 naming the field and what this model allows.
"""

from __future__ import annotations

import json
import re
from typing import Any
from urllib.parse import urlsplit

from workers.catalog.inputs import VOCABULARY, DurationSpec, ResolutionSpec
from workers.catalog.models import ModelSpec
from workers.catalog.sizes import apply_aspect, aspect_label, preset_of
from workers.errors import FieldError, InvalidInput
from workers.media.formats import PRESETS
from workers.settings import get_settings

_WHITESPACE = re.compile(r"\s+")
MAX_URL_LENGTH = 2048
# A caller's own provider fields: small, so they cannot smuggle a payload past our limits.
MAX_PROVIDER_INPUT_BYTES = 4096
_WHAT = {
    "prompt": "a prompt",
    "negative_prompt": "a negative_prompt",
    "duration": "a duration",
    "resolution": "a resolution",
    "aspect_ratio": "an aspect_ratio",
    "fps": "an fps",
    "seed": "a seed",
    "num_images": "num_images",
    "image_url": "an image_url",
    "video_url": "a video_url",
}


class _Check:
    """Reads one raw input against one model, collecting every problem."""

    def __init__(self, model: ModelSpec, raw: dict[str, Any]) -> None:
        self.model, self.raw, self.inputs = model, raw, model.inputs
        self.errors: list[FieldError] = []

    def fail(self, *loc: str, msg: str) -> None:
        self.errors.append(FieldError(loc=("input", *loc), msg=msg))

    def offered(self, field: str) -> bool:
        """Whether the model takes `field`; a value given for one it does not is refused."""
        if getattr(self.inputs, field) is not None:
            return True
        if self.raw.get(field) is not None:
            self.fail(field, msg=f"{self.model.id} does not take {_WHAT[field]}")
        return False

    def text(self, field: str, max_length: int, *, required: bool) -> str | None:
        value = self.raw.get(field)
        if value is None:
            if required:
                self.fail(field, msg="is required: a text description of what to generate")
            return None
        if not isinstance(value, str):
            self.fail(field, msg=f"must be a string, got {type(value).__name__}")
            return None
        collapsed = _WHITESPACE.sub(" ", value).strip()
        if not collapsed:
            if required:
                self.fail(field, msg="must not be empty")
            return None
        if len(collapsed) > max_length:
            self.fail(field, msg=f"is {len(collapsed)} characters; at most {max_length}")
            return None
        return collapsed

    def duration(self, spec: DurationSpec) -> float | None:
        value = self.raw.get("duration")
        if value is None:
            return spec.default
        if isinstance(value, bool) or not isinstance(value, int | float):
            self.fail("duration", msg=f"must be a number of seconds, got {type(value).__name__}")
            return None
        seconds = float(value)
        if spec.allows(seconds):
            return seconds
        if spec.choices is not None and not spec.trim:
            allowed = ", ".join(f"{d:g}" for d in spec.choices)
            self.fail(
                "duration",
                msg=f"{seconds:g} s is not offered by {self.model.id}; allowed: {allowed}",
            )
        else:
            low, high = spec.bounds()
            self.fail(
                "duration",
                msg=f"must be between {low:g} and {high:g} seconds for {self.model.id}, "
                f"got {seconds:g}",
            )
        return None

    def aspect(self) -> str | None:
        aspect = self.raw.get("aspect_ratio")
        spec = self.inputs.aspect_ratio
        if aspect is None:
            return None
        if spec is None or aspect not in spec.choices:
            allowed = ", ".join(spec.choices) if spec else "none (the model picks its own)"
            self.fail(
                "aspect_ratio",
                msg=f"{aspect!r} is not offered by {self.model.id}; allowed: {allowed}",
            )
            return None
        return str(aspect)

    def size(self, spec: ResolutionSpec, aspect: str | None) -> tuple[int, int] | None:
        resolution = self.raw.get("resolution")
        default_aspect = self.inputs.aspect_ratio.default if self.inputs.aspect_ratio else None
        if resolution is None:
            size = spec.default_size()
            if size is None or aspect is None:
                return size
            return apply_aspect(size, aspect)
        if isinstance(resolution, str):
            if resolution not in spec.presets:
                allowed = ", ".join(spec.presets) or "none (give {width, height})"
                self.fail(
                    "resolution",
                    msg=f"{resolution!r} is not offered by {self.model.id}; allowed: {allowed}",
                )
                return None
            return apply_aspect(PRESETS[resolution], aspect or default_aspect or "16:9")
        if isinstance(resolution, dict):
            return self.explicit_size(spec, resolution, aspect)
        self.fail("resolution", msg='must be a preset such as "720p" or {"width": W, "height": H}')
        return None

    def explicit_size(
        self, spec: ResolutionSpec, resolution: dict[str, Any], aspect: str | None
    ) -> tuple[int, int] | None:
        width, height = resolution.get("width"), resolution.get("height")
        if set(resolution) != {"width", "height"} or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in (width, height)
        ):
            self.fail(
                "resolution", msg='an explicit size must be {"width": int, "height": int} only'
            )
            return None
        assert isinstance(width, int)
        assert isinstance(height, int)
        choices = self.inputs.aspect_ratio.choices if self.inputs.aspect_ratio else ("16:9",)
        presets = {apply_aspect(PRESETS[name], a) for name in spec.presets for a in choices}
        if (width, height) in presets:
            pass  # the same as a preset the model offers
        elif spec.custom is None:
            allowed = ", ".join(spec.presets)
            self.fail("resolution", msg=f"{self.model.id} takes only preset resolutions: {allowed}")
            return None
        else:
            low, high = spec.custom
            if not (low <= width <= high and low <= height <= high):
                self.fail(
                    "resolution",
                    msg=f"width and height must each be {low}–{high}, got {width}×{height}",
                )
                return None
            if self.model.kind == "video" and (width % 2 or height % 2):
                self.fail(
                    "resolution", msg=f"video width and height must be even, got {width}×{height}"
                )
                return None
        if aspect is not None and aspect_label(width, height) != aspect:
            self.fail(
                "aspect_ratio", msg=f"{aspect} contradicts the size {width}×{height}; give one"
            )
            return None
        return width, height

    def integer(
        self, field: str, low: int, high: int, choices: tuple[int, ...] | None = None
    ) -> int | None:
        value = self.raw.get(field)
        if value is None:
            return None
        if isinstance(value, bool) or not isinstance(value, int):
            self.fail(field, msg=f"must be an integer, got {type(value).__name__}")
        elif choices is not None and value not in choices:
            allowed = ", ".join(map(str, choices))
            self.fail(field, msg=f"{value} is not offered by {self.model.id}; allowed: {allowed}")
        elif not low <= value <= high:
            self.fail(field, msg=f"must be an integer from {low} to {high}, got {value}")
        else:
            return value
        return None

    def url(self, field: str, what: str) -> str | None:
        """An https URL of the image (or video) to start from, or a file uploaded here
        (`POST /v1/files`: under `PUBLIC_BASE_URL`, which may be http on a local setup)."""
        value = self.raw.get(field)
        if value is None:
            self.fail(field, msg=f"is required: the https URL of the {what} to start from")
            return None
        parts = urlsplit(value) if isinstance(value, str) else None
        ours = isinstance(value, str) and value.startswith(uploads_prefix())
        if parts is None or (parts.scheme != "https" and not ours) or not parts.hostname:
            self.fail(
                field, msg=f"must be an https URL of {'an' if what == 'image' else 'a'} {what}"
            )
            return None
        if len(value) > MAX_URL_LENGTH:
            self.fail(field, msg=f"is {len(value)} characters; at most {MAX_URL_LENGTH}")
            return None
        return str(value)

    def provider_input(self) -> dict[str, Any] | None:
        value = self.raw.get("provider_input")
        if value is None:
            return None
        if self.model.provider == "local":
            self.fail(
                "provider_input", msg=f"{self.model.id} runs here: it takes no provider_input"
            )
            return None
        if not isinstance(value, dict):
            self.fail("provider_input", msg="must be an object of the provider's own fields")
            return None
        size = len(json.dumps(value, separators=(",", ":")))
        if size > MAX_PROVIDER_INPUT_BYTES:
            self.fail(
                "provider_input", msg=f"is {size} bytes of JSON; at most {MAX_PROVIDER_INPUT_BYTES}"
            )
            return None
        taken = self.inputs.wire_targets() | set(self.model.fixed)
        clashes = sorted(p for p in _leaf_paths(value) if _overlaps(p, taken))
        for path in clashes:
            self.fail(
                "provider_input",
                path,
                msg=f"is set from our own inputs for {self.model.id}; use those instead",
            )
        return None if clashes else value or None


def _leaf_paths(value: dict[str, Any], prefix: str = "") -> list[str]:
    paths = []
    for key, item in value.items():
        path = f"{prefix}{key}"
        paths.extend(_leaf_paths(item, f"{path}.") if isinstance(item, dict) and item else [path])
    return paths


def _overlaps(path: str, taken: set[str]) -> bool:
    return any(path == t or t.startswith(f"{path}.") or path.startswith(f"{t}.") for t in taken)


def normalize_input(model: ModelSpec, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate `raw` for `model` and return the canonical input (defaults filled in).

    Raises `InvalidInput` listing every field that is wrong and what is allowed.
    """
    check = _Check(model, raw)
    inputs = model.inputs
    for name in sorted(set(raw) - set(VOCABULARY)):
        check.fail(name, msg=f"is not an input; inputs are: {', '.join(sorted(VOCABULARY))}")
    canonical: dict[str, Any] = {}
    if check.offered("prompt"):
        assert inputs.prompt is not None
        canonical["prompt"] = check.text("prompt", inputs.prompt.max_length, required=True)
    if check.offered("negative_prompt"):
        assert inputs.negative_prompt is not None
        limit = inputs.negative_prompt.max_length
        canonical["negative_prompt"] = check.text("negative_prompt", limit, required=False)
    if check.offered("duration"):
        assert inputs.duration is not None
        canonical["duration"] = check.duration(inputs.duration)
    aspect = check.aspect()
    if check.offered("resolution"):
        assert inputs.resolution is not None
        size = check.size(inputs.resolution, aspect)
        if size is not None:
            canonical["width"], canonical["height"] = size
            canonical["aspect_ratio"] = aspect_label(*size)
            canonical["resolution"] = preset_of(size)
    elif inputs.aspect_ratio is not None:
        canonical["aspect_ratio"] = aspect or inputs.aspect_ratio.default
    if check.offered("fps"):
        assert inputs.fps is not None
        canonical["fps"] = check.integer("fps", inputs.fps.min, inputs.fps.max, inputs.fps.choices)
    if check.offered("seed"):
        canonical["seed"] = check.integer("seed", 0, 2**32 - 1)
    if check.offered("num_images"):
        assert inputs.num_images is not None
        count = check.integer("num_images", 1, inputs.num_images.max)
        canonical["num_images"] = count if count != 1 else None  # 1 is the default
    for field, what in (("image_url", "image"), ("video_url", "video")):
        if getattr(inputs, field) is not None:
            canonical[field] = check.url(field, what)
        elif raw.get(field) is not None:
            check.fail(field, msg=f"{model.id} does not take {_WHAT[field]}")
    canonical["provider_input"] = check.provider_input()
    if check.errors:
        raise InvalidInput(check.errors)
    canonical = {k: v for k, v in canonical.items() if v is not None}
    _check_duration_at_resolution(model, canonical)
    return canonical


def _check_duration_at_resolution(model: ModelSpec, canonical: dict[str, Any]) -> None:
    spec = model.inputs.duration
    allowed = spec.only_at_resolution.get(canonical.get("resolution") or "") if spec else None
    if allowed is not None and canonical.get("duration") not in allowed:
        seconds = ", ".join(f"{d:g}" for d in allowed)
        raise InvalidInput.at(
            "input",
            "duration",
            msg=f"{model.id} offers {canonical['resolution']} only at {seconds} s; "
            f"ask for that duration or a lower resolution",
        )


def uploads_prefix() -> str:
    """Where files uploaded here are served from (local storage)."""
    return f"{get_settings().public_base_url.rstrip('/')}/media/uploads/"
