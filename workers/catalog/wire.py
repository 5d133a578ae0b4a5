"""A canonical input (our vocabulary) → the model's own input fields, by its catalog entry.

Pure data-driven mapping: each input the entry lists goes to its `to` path, converted
`as` the model wants it and spelled by its `values` table; then the entry's `fixed` fields;
then the caller's `provider_input`, merged in (validation already refused any field the
mapping sets). Adapters add only what their protocol needs on top (OpenAI's `model`).
"""

from __future__ import annotations

from typing import Any

from workers.catalog.inputs import DurationSpec, ResolutionSpec, Spec, WireType
from workers.catalog.models import ModelSpec


def to_wire(model: ModelSpec, canonical: dict[str, Any]) -> dict[str, Any]:
    payload: dict[str, Any] = {}
    for name in model.inputs.names():
        spec: Spec = getattr(model.inputs, name)
        target = getattr(spec, "to", None)
        if target is None or canonical.get(_source(name)) is None:
            continue
        if isinstance(spec, ResolutionSpec):
            _resolution(payload, spec, canonical)
            continue
        value = canonical[name]
        if isinstance(spec, DurationSpec):
            value = _duration(spec, float(value))
        put(payload, target, _spelled(spec, value))
    for path, value in model.fixed.items():
        put(payload, path, value)
    return _merged(payload, canonical.get("provider_input") or {})


def _source(name: str) -> str:
    """The canonical field an input is read from (a resolution is its width and height)."""
    return "width" if name == "resolution" else name


def _duration(spec: DurationSpec, seconds: float) -> Any:
    if spec.frames is not None:
        return _typed(spec.frames.covering(seconds), spec.as_)
    return _typed(spec.wire_seconds(seconds), spec.as_)


def _typed(value: float, as_: WireType) -> Any:
    number: float | int = int(value) if float(value).is_integer() else value
    if as_ == "integer":
        return round(value)
    if as_ == "string":
        return f"{number:g}" if isinstance(number, float) else str(number)
    return number


def _resolution(payload: dict[str, Any], spec: ResolutionSpec, canonical: dict[str, Any]) -> None:
    width, height = int(canonical["width"]), int(canonical["height"])
    assert spec.to is not None
    if spec.as_ == "fields":
        assert spec.to_height is not None
        put(payload, spec.to, width)
        put(payload, spec.to_height, height)
    elif spec.as_ == "object":
        put(payload, spec.to, {"width": width, "height": height})
    elif spec.as_ == "size":
        put(payload, spec.to, _spelled(spec, f"{width}x{height}"))
    else:
        put(payload, spec.to, _spelled(spec, canonical["resolution"]))


def _spelled(spec: Spec, value: Any) -> Any:
    return spec.values.get(str(value), value) if spec.values else value


def put(payload: dict[str, Any], path: str, value: Any) -> None:
    """Set `path` (dotted; a number indexes a list) in `payload`, making what is missing."""
    parts = path.split(".")
    node: Any = payload
    for part, following in zip(parts, parts[1:], strict=False):
        child: Any = [] if following.isdigit() else {}
        if isinstance(node, list):
            index = int(part)
            while len(node) <= index:
                node.append(None)
            node[index] = node[index] if node[index] is not None else child
            node = node[index]
        else:
            node = node.setdefault(part, child)
    last = parts[-1]
    if isinstance(node, list):
        index = int(last)
        while len(node) <= index:
            node.append(None)
        node[index] = value
    else:
        node[last] = value


def _merged(payload: dict[str, Any], extra: dict[str, Any]) -> dict[str, Any]:
    for key, value in extra.items():
        current = payload.get(key)
        if isinstance(current, dict) and isinstance(value, dict):
            payload[key] = _merged(current, value)
        else:
            payload[key] = value
    return payload
