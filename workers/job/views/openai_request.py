"""OpenAI's request fields in our vocabulary: `POST /v1/videos` and
`POST /v1/images/generations` bodies become a `JobCreate` for the one producer.

OpenAI's `seconds` is our `duration`, `size` ("1280x720") our `resolution` {width, height},
`input_reference` an `image_url`, `n` our `num_images`. The catalog still decides what each
model accepts; its refusals name our fields, which `openai_param` turns back into theirs so
the caller is told about the parameter they sent.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import ValidationError

from workers.catalog.models import ModelSpec
from workers.catalog.registry import all_models, get_model
from workers.errors import FieldError, InvalidInput
from workers.job.schemas import JobCreate
from workers.media.formats import MediaKind

VIDEO_FIELDS = frozenset({"model", "prompt", "seconds", "size", "input_reference"})
IMAGE_FIELDS = frozenset({"model", "prompt", "n", "size", "response_format"})
# Sent by some clients and gateways, meaningless here: accepted and ignored (`stream` only
# while false: the answer comes whole).
IMAGE_IGNORED = frozenset({"user", "safety_identifier", "stream"})

# Our input's fields, as the OpenAI parameter a caller set them with.
_PARAM_OF_INPUT = {
    "duration": "seconds",
    "resolution": "size",
    "aspect_ratio": "size",
    "image_url": "input_reference",
    "num_images": "n",
}

_SIZE = re.compile(r"^\s*(\d{1,5})\s*[xX×]\s*(\d{1,5})\s*$")

ResponseFormat = Literal["url", "b64_json"]


def openai_param(loc: tuple[str | int, ...]) -> str | None:
    """The OpenAI parameter an error at `loc` (ours, or theirs already) is about."""
    parts = [str(p) for p in loc if p not in ("body", "query", "path")]
    if not parts:
        return None
    if parts[0] == "input" and len(parts) > 1:
        return _PARAM_OF_INPUT.get(parts[1], parts[1])
    return parts[0]


def _job(model: str, input_: dict[str, Any], idempotency_key: str | None) -> JobCreate:
    """The job, or the refusal naming the field (an unstorable prompt, a key too long)."""
    try:
        return JobCreate(model=model, input=input_, idempotency_key=idempotency_key)
    except ValidationError as exc:
        raise InvalidInput(
            [FieldError(loc=tuple(e["loc"]), msg=e["msg"]) for e in exc.errors()]
        ) from None


def _refuse(param: str, msg: str) -> InvalidInput:
    return InvalidInput([FieldError(loc=(param,), msg=msg)])


def _unknown(fields: Mapping[str, Any], known: frozenset[str], ignored: frozenset[str]) -> None:
    for name, value in fields.items():
        if name in ignored or (value is None and name not in known):
            continue
        if name not in known:
            raise _refuse(name, f"unknown parameter {name!r}; this server takes {sorted(known)}")


def _model(fields: Mapping[str, Any], kind: MediaKind, elsewhere: str) -> ModelSpec:
    offered = ", ".join(spec.id for spec in all_models() if spec.kind == kind)
    model_id = fields.get("model")
    if not isinstance(model_id, str) or not model_id.strip():
        raise _refuse("model", f"is required: one of this server's {kind} models: {offered}")
    spec = get_model(model_id.strip())  # InvalidInput at ("model",) for an unknown id
    if spec.kind != kind:
        raise _refuse(
            "model",
            f"{spec.id} makes {spec.kind}, not {kind} ({elsewhere}); {kind} models: {offered}",
        )
    return spec


def _prompt(fields: Mapping[str, Any]) -> str:
    prompt = fields.get("prompt")
    if not isinstance(prompt, str):
        raise _refuse("prompt", "is required: a text description of what to generate")
    return prompt


def _size(value: Any) -> dict[str, int] | None:
    """OpenAI's "WIDTHxHEIGHT" as our explicit resolution; "auto" or nothing: the model's."""
    if value is None or value == "auto":
        return None
    found = _SIZE.match(value) if isinstance(value, str) else None
    if found is None:
        raise _refuse("size", f'must be "WIDTHxHEIGHT", e.g. "1280x720"; got {value!r}')
    return {"width": int(found.group(1)), "height": int(found.group(2))}


def _seconds(value: Any) -> float | None:
    if value is None:
        return None
    wrong = _refuse("seconds", f'must be a number of seconds such as "4", got {value!r}')
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise wrong
    try:
        seconds = float(value)
    except ValueError:
        raise wrong from None
    if not math.isfinite(seconds):
        raise wrong
    return int(seconds) if seconds.is_integer() else seconds


def _reference(value: Any, spec: ModelSpec) -> str | None:
    """`input_reference` as an image URL. An uploaded file (or an OpenAI `file_id`) is
    refused: nothing here stores uploads for it yet."""
    if value is None:
        return None
    url = value.get("image_url") if isinstance(value, Mapping) else None
    if not isinstance(url, str) or not url:
        raise _refuse(
            "input_reference",
            'give it as {"image_url": "https://…"}; uploaded files and file ids are not '
            "supported by this server",
        )
    if spec.inputs.image_url is None:
        takers = [m.id for m in all_models() if m.kind == spec.kind and m.inputs.image_url]
        raise _refuse(
            "input_reference",
            f"{spec.id} takes no reference image (image-to-video models: "
            f"{', '.join(takers) or 'none here yet'}); send the prompt alone",
        )
    return url


def video_request(fields: Mapping[str, Any], *, idempotency_key: str | None = None) -> JobCreate:
    """A `POST /v1/videos` body (JSON or form fields) as the job to submit."""
    _unknown(fields, VIDEO_FIELDS, frozenset())
    spec = _model(fields, MediaKind.VIDEO, "POST /v1/images/generations makes images")
    input_: dict[str, Any] = {"prompt": _prompt(fields)}
    if (seconds := _seconds(fields.get("seconds"))) is not None:
        input_["duration"] = seconds
    if (size := _size(fields.get("size"))) is not None:
        input_["resolution"] = size
    if (reference := _reference(fields.get("input_reference"), spec)) is not None:
        input_["image_url"] = reference
    return _job(spec.id, input_, idempotency_key)


@dataclass(frozen=True)
class ImageRequest:
    job: JobCreate
    response_format: ResponseFormat


def image_request(fields: Mapping[str, Any], *, idempotency_key: str | None = None) -> ImageRequest:
    """A `POST /v1/images/generations` body as the job to submit and how to answer."""
    _unknown(fields, IMAGE_FIELDS, IMAGE_IGNORED)
    if fields.get("stream"):
        raise _refuse("stream", "streaming is not supported; the answer comes whole")
    spec = _model(fields, MediaKind.IMAGE, "POST /v1/videos makes videos")
    input_: dict[str, Any] = {"prompt": _prompt(fields)}
    if (size := _size(fields.get("size"))) is not None:
        input_["resolution"] = size
    n = fields.get("n")
    if n is not None and (isinstance(n, bool) or not isinstance(n, int) or n < 1):
        raise _refuse("n", f"must be a whole number of images, 1 or more; got {n!r}")
    if n is not None and n > 1:
        input_["num_images"] = n  # the model's limit is the catalog's: a refusal names `n`
    response_format: ResponseFormat
    match fields.get("response_format"):
        case None | "url":
            response_format = "url"
        case "b64_json":
            response_format = "b64_json"
        case other:
            raise _refuse("response_format", f'must be "url" or "b64_json", got {other!r}')
    return ImageRequest(
        job=_job(spec.id, input_, idempotency_key),
        response_format=response_format,
    )
