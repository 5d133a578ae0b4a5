"""Turn a request's raw `input` into the canonical input a model runs on, or say what is wrong.

The canonical form always carries `width`/`height` when the model takes a size, so a preset
and the explicit size it stands for normalise to the same input (the cache keys on this).
"""

from __future__ import annotations

import re
from fractions import Fraction
from typing import Any

from workers.catalog.models import InputSpec, ModelSpec
from workers.errors import FieldError, InvalidInput
from workers.media.formats import PRESETS

_WHITESPACE = re.compile(r"\s+")


def _aspect_label(width: int, height: int) -> str:
    ratio = Fraction(width, height)
    for label in ("16:9", "9:16", "1:1", "4:3", "3:4"):
        a, b = (int(x) for x in label.split(":"))
        if abs(float(ratio) - a / b) < 0.01:
            return label
    return f"{ratio.numerator}:{ratio.denominator}"


def _apply_aspect(size: tuple[int, int], aspect: str) -> tuple[int, int]:
    long_edge, short_edge = size
    if aspect == "9:16":
        return short_edge, long_edge
    if aspect == "1:1":
        return short_edge, short_edge
    return long_edge, short_edge


class _Collector:
    def __init__(self) -> None:
        self.errors: list[FieldError] = []

    def fail(self, field: str, msg: str) -> None:
        self.errors.append(FieldError(loc=("input", field), msg=msg))


def _prompt(raw: dict[str, Any], spec: InputSpec, out: _Collector) -> str | None:
    prompt = raw.get("prompt")
    if prompt is None:
        out.fail("prompt", "is required: a text description of what to generate")
        return None
    if not isinstance(prompt, str):
        out.fail("prompt", f"must be a string, got {type(prompt).__name__}")
        return None
    collapsed = _WHITESPACE.sub(" ", prompt).strip()
    if not collapsed:
        out.fail("prompt", "must not be empty")
        return None
    if len(collapsed) > spec.max_prompt_length:
        out.fail("prompt", f"is {len(collapsed)} characters; at most {spec.max_prompt_length}")
        return None
    return collapsed


def _duration(raw: dict[str, Any], model: ModelSpec, out: _Collector) -> float | None:
    spec = model.inputs
    value = raw.get("duration")
    takes_duration = spec.durations is not None or spec.duration_range is not None
    if value is None:
        return spec.default_duration if takes_duration else None
    if not takes_duration:
        out.fail("duration", f"{model.id} does not take a duration")
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        out.fail("duration", f"must be a number of seconds, got {type(value).__name__}")
        return None
    seconds = float(value)
    if spec.durations is not None and seconds not in spec.durations:
        allowed = ", ".join(f"{d:g}" for d in spec.durations)
        out.fail("duration", f"{seconds:g} s is not offered by {model.id}; allowed: {allowed}")
        return None
    if spec.duration_range is not None:
        low, high = spec.duration_range
        if not low <= seconds <= high:
            out.fail("duration", f"must be between {low:g} and {high:g} seconds, got {seconds:g}")
            return None
    return seconds


def _size(raw: dict[str, Any], model: ModelSpec, out: _Collector) -> tuple[int, int] | None:
    spec = model.inputs
    resolution = raw.get("resolution")
    aspect = raw.get("aspect_ratio")
    if aspect is not None and (spec.aspect_ratios is None or aspect not in spec.aspect_ratios):
        allowed = ", ".join(spec.aspect_ratios or ()) or "none (the model picks its own)"
        out.fail("aspect_ratio", f"{aspect!r} is not offered by {model.id}; allowed: {allowed}")
        return None
    if resolution is None:
        if spec.default_size is None:
            return None
        if aspect is not None:
            return _apply_aspect(spec.default_size, aspect)
        return spec.default_size
    if isinstance(resolution, str):
        if spec.resolutions is None or resolution not in spec.resolutions:
            allowed = ", ".join(spec.resolutions or ()) or "none"
            out.fail(
                "resolution", f"{resolution!r} is not offered by {model.id}; allowed: {allowed}"
            )
            return None
        return _apply_aspect(PRESETS[resolution], aspect or spec.default_aspect_ratio or "16:9")
    if isinstance(resolution, dict):
        return _custom_size(resolution, aspect, model, out)
    out.fail("resolution", 'must be a preset such as "720p" or {"width": W, "height": H}')
    return None


def _custom_size(
    resolution: dict[str, Any], aspect: str | None, model: ModelSpec, out: _Collector
) -> tuple[int, int] | None:
    spec = model.inputs
    width, height = resolution.get("width"), resolution.get("height")
    if set(resolution) != {"width", "height"} or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in (width, height)
    ):
        out.fail("resolution", 'an explicit size must be {"width": int, "height": int} only')
        return None
    assert isinstance(width, int)
    assert isinstance(height, int)
    size = (width, height)
    presets = {
        _apply_aspect(PRESETS[name], a): name
        for name in spec.resolutions or ()
        for a in spec.aspect_ratios or ("16:9",)
    }
    if size in presets:
        pass  # the same as a preset the model offers
    elif spec.custom_size is None:
        allowed = ", ".join(spec.resolutions or ()) or "none"
        out.fail("resolution", f"{model.id} takes only preset resolutions: {allowed}")
        return None
    else:
        low, high = spec.custom_size
        if not (low <= width <= high and low <= height <= high):
            out.fail(
                "resolution", f"width and height must each be {low}–{high}, got {width}×{height}"
            )
            return None
        if model.kind == "video" and (width % 2 or height % 2):
            out.fail("resolution", f"video width and height must be even, got {width}×{height}")
            return None
    if aspect is not None and _aspect_label(width, height) != aspect:
        out.fail("aspect_ratio", f"{aspect} contradicts the size {width}×{height}; give one")
        return None
    return size


def _seed(raw: dict[str, Any], model: ModelSpec, out: _Collector) -> int | None:
    seed = raw.get("seed")
    if seed is None:
        return None
    if not model.inputs.takes_seed:
        out.fail("seed", f"{model.id} does not take a seed")
    elif isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**32:
        out.fail("seed", "must be an integer from 0 to 4294967295")
    else:
        return seed
    return None


KNOWN_FIELDS = frozenset({"prompt", "duration", "resolution", "aspect_ratio", "seed"})


def normalize_input(model: ModelSpec, raw: dict[str, Any]) -> dict[str, Any]:
    """Validate `raw` for `model` and return the canonical input (defaults filled in).

    Raises `InvalidInput` listing every field that is wrong and what is allowed.
    """
    out = _Collector()
    unknown = sorted(set(raw) - KNOWN_FIELDS)
    for name in unknown:
        out.fail(name, f"is not an input; inputs are: {', '.join(sorted(KNOWN_FIELDS))}")
    prompt = _prompt(raw, model.inputs, out)
    duration = _duration(raw, model, out)
    size = _size(raw, model, out)
    seed = _seed(raw, model, out)
    if out.errors:
        raise InvalidInput(out.errors)
    canonical: dict[str, Any] = {"prompt": prompt}
    if duration is not None:
        canonical["duration"] = duration
    if size is not None:
        canonical["width"], canonical["height"] = size
        canonical["aspect_ratio"] = _aspect_label(*size)
        canonical["resolution"] = next(
            (name for name, preset in PRESETS.items() if min(size) == min(preset)), None
        )
    if seed is not None:
        canonical["seed"] = seed
    allowed = model.inputs.durations_at.get(canonical.get("resolution") or "")
    if allowed is not None and duration not in allowed:
        seconds = ", ".join(f"{d:g}" for d in allowed)
        raise InvalidInput.at(
            "input",
            "duration",
            msg=f"{model.id} offers {canonical['resolution']} only at {seconds} s; "
            f"ask for that duration or a lower resolution",
        )
    return canonical
