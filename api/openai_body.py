"""The fields of an OpenAI-style request body, JSON or form.

OpenAI's SDKs send `POST /v1/videos` as multipart/form-data (it may carry a file), other
clients send JSON; both become one dict. A form's bracketed names (`input_reference[image_url]`,
how the SDK flattens an object) become nested dicts again; an uploaded file stays an
`UploadFile`, which the request mapping refuses by name.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from workers.errors import InvalidInput

FORM_TYPES = ("multipart/form-data", "application/x-www-form-urlencoded")


async def request_fields(request: Request) -> dict[str, Any]:
    content_type = request.headers.get("content-type", "")
    if content_type.startswith(FORM_TYPES):
        fields: dict[str, Any] = {}
        async with request.form() as form:
            for name, value in form.multi_items():
                outer, bracket, inner = name.partition("[")
                if bracket and inner.endswith("]"):
                    nested = fields.setdefault(outer, {})
                    if isinstance(nested, dict):
                        nested[inner[:-1]] = value
                else:
                    fields[name] = value
            return fields
    raw = await request.body()
    try:
        body = json.loads(raw) if raw else None
    except ValueError:
        body = None
    if not isinstance(body, dict):
        raise InvalidInput.at("body", msg="the body must be a JSON object (or form fields)")
    return body
