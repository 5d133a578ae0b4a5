"""Finding the files in a provider's answer, by the path a model's catalog entry names."""

from __future__ import annotations

import mimetypes
from typing import Any


def dig(body: Any, path: str) -> Any:
    """`body` at a dotted path (`images`, `data.video`); None where it leads nowhere."""
    for part in path.split("."):
        if isinstance(body, list) and part.isdigit() and int(part) < len(body):
            body = body[int(part)]
        elif isinstance(body, dict):
            body = body.get(part)
        else:
            return None
    return body


def guess_content_type(url: str) -> str:
    """From the URL's extension; what the file really is is probed after download."""
    guessed, _ = mimetypes.guess_type(url.split("?", 1)[0])
    return guessed or "application/octet-stream"
