"""An image job's result as OpenAI's `data` list: `{"url"}` or `{"b64_json"}` per image."""

from __future__ import annotations

import base64
from typing import Any

from workers.errors import NotFound
from workers.job.views.openai_request import ResponseFormat
from workers.storage import get_storage


def images_of(result: dict[str, Any]) -> list[dict[str, Any]]:
    """The result's images (`result["images"]`, always a list)."""
    images = result.get("images")
    return (
        [image for image in images if isinstance(image, dict)] if isinstance(images, list) else []
    )


def image_data(result: dict[str, Any], response_format: ResponseFormat) -> list[dict[str, str]]:
    images = images_of(result)
    if response_format == "url":
        return [{"url": str(image["url"])} for image in images]
    storage = get_storage()
    data: list[dict[str, str]] = []
    for image in images:
        content = storage.read(str(image.get("url")))
        if content is None:
            raise NotFound(f"the image {image.get('url')} is no longer stored here")
        data.append({"b64_json": base64.b64encode(content).decode("ascii")})
    return data
