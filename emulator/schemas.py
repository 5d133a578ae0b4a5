"""The models' wire schemas (`schemas.yaml`): check a request field by field, and say what
the model makes from it.

`check` returns every problem as a `Problem` (a path into the body and what is wrong);
each provider module turns them into that provider's own error body.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from emulator.media import SHORT_SIDE, MediaSpec, even

SCHEMAS = Path(__file__).with_name("schemas.yaml")
_TYPES: dict[str, tuple[type, ...]] = {
    "string": (str,),
    "integer": (int,),
    "number": (int, float),
    "boolean": (bool,),
    "object": (dict,),
    "array": (list,),
}


@dataclass(frozen=True)
class Problem:
    path: tuple[str | int, ...]  # into the checked body; () is the body itself
    kind: str  # extra, missing, type, enum, range, length
    message: str


@dataclass(frozen=True)
class WireSchema:
    input: dict[str, Any]
    output: dict[str, Any]


@cache
def _all() -> dict[tuple[str, str], WireSchema]:
    data = yaml.safe_load(SCHEMAS.read_text(encoding="utf-8"))
    return {
        (provider, model): WireSchema(entry["input"], entry["output"])
        for provider, models in data.items()
        for model, entry in models.items()
    }


def schema_for(provider: str, model: str) -> WireSchema | None:
    return _all().get((provider, model))


def check(schema: WireSchema, body: Any) -> list[Problem]:
    """Every way `body` departs from the schema's fields (an empty list: it conforms)."""
    return _object({"type": "object", "properties": schema.input}, body, ())


def _field(spec: dict[str, Any], value: Any, path: tuple[str | int, ...]) -> list[Problem]:
    if "one_of" in spec:
        options = [_field(option, value, path) for option in spec["one_of"]]
        if any(not problems for problems in options):
            return []
        return [p for problems in options for p in problems][:1]
    wanted = spec.get("type")
    if wanted is not None:
        ok = isinstance(value, _TYPES[wanted]) and not (
            isinstance(value, bool) and wanted in ("integer", "number")
        )
        if not ok:
            return [Problem(path, "type", f"Input should be a valid {wanted}")]
    if "enum" in spec and value not in spec["enum"]:
        allowed = ", ".join(repr(v) for v in spec["enum"])
        return [Problem(path, "enum", f"Input should be one of {allowed}")]
    if "minimum" in spec and value < spec["minimum"]:
        return [Problem(path, "range", f"Input should be >= {spec['minimum']}")]
    if "maximum" in spec and value > spec["maximum"]:
        return [Problem(path, "range", f"Input should be <= {spec['maximum']}")]
    if "max_length" in spec and len(value) > spec["max_length"]:
        return [Problem(path, "length", f"At most {spec['max_length']} characters")]
    if wanted == "object" and "properties" in spec:
        return _object(spec, value, path)
    if wanted == "array" and "items" in spec:
        return [p for i, item in enumerate(value) for p in _field(spec["items"], item, (*path, i))]
    return []


def _object(spec: dict[str, Any], value: Any, path: tuple[str | int, ...]) -> list[Problem]:
    if not isinstance(value, dict):
        return [Problem(path, "type", "Input should be a valid object")]
    fields: dict[str, Any] = spec["properties"]
    problems = [
        Problem((*path, name), "extra", "Extra inputs are not permitted")
        for name in value
        if name not in fields
    ]
    for name, field in fields.items():
        if name in value:
            problems += _field(field, value[name], (*path, name))
        elif field.get("required"):
            problems.append(Problem((*path, name), "missing", "Field required"))
    return problems


def media_of(schema: WireSchema, body: dict[str, Any]) -> MediaSpec:
    """The file the model makes for `body` (a checked request)."""
    rule = schema.output
    width, height = _size(rule["size"], body)
    if rule["kind"] == "image":
        count = _at(body, rule["count"]) if "count" in rule else None
        return MediaSpec("image", width, height, 0.0, count=int(count or 1))
    return MediaSpec("video", width, height, _duration(rule["duration"], body))


def _at(body: Any, path: str) -> Any:
    for part in path.split("."):
        if isinstance(body, list) and part.isdigit() and int(part) < len(body):
            body = body[int(part)]
        elif isinstance(body, dict):
            body = body.get(part)
        else:
            return None
    return body


def _size(rule: dict[str, Any], body: dict[str, Any]) -> tuple[int, int]:
    if "fixed" in rule:
        width, height = rule["fixed"]
        return int(width), int(height)
    if "field" in rule:
        value = _at(body, rule["field"])
        if isinstance(value, dict):
            return int(value.get("width", 512)), int(value.get("height", 512))
        width, height = rule["names"][value if value is not None else rule["default"]]
        return int(width), int(height)
    if "size_string" in rule:
        width, height = str(_at(body, rule["size_string"]) or rule["default"]).split("x", 1)
        return int(width), int(height)
    aspect = _at(body, rule.get("aspect", "")) or rule["default_aspect"]
    resolution = _at(body, rule.get("resolution", "")) or rule["default_resolution"]
    short = SHORT_SIDE[str(resolution)]
    a, b = (float(x) for x in str(aspect).split(":", 1))
    return (even(short * a / b), short) if a >= b else (short, even(short * b / a))


def _duration(rule: dict[str, Any], body: dict[str, Any]) -> float:
    if "fixed" in rule:
        return float(rule["fixed"])
    if "frames" in rule:
        frames = _at(body, rule["frames"]) or rule["default"]
        return round(int(frames) / float(rule["fps"]), 3)
    value = _at(body, rule["seconds"]) or rule["default"]
    return float(str(value).removesuffix("s"))  # fal's Veo spells seconds "8s"
