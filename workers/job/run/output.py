"""The upload phase, shared by every provider: store the file, describe what was stored."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

from workers.media.probe import MediaInfo
from workers.storage import get_storage


def store_output(
    job_id: uuid.UUID, path: Path, info: MediaInfo, poster: Path | None = None
) -> dict[str, Any]:
    storage = get_storage()
    media: dict[str, Any] = {
        "url": storage.put(f"jobs/{job_id}/{path.name}", path),
        "content_type": info.content_type,
        "width": info.width,
        "height": info.height,
        "file_size": path.stat().st_size,
    }
    if info.duration_s is not None:
        media["duration"] = info.duration_s
    if poster is not None:
        media["poster_url"] = storage.put(f"jobs/{job_id}/{poster.name}", poster)
    kind = "video" if info.content_type.startswith("video/") else "image"
    return {kind: media}
