"""The upload phase, shared by every provider: store the files, describe what was stored.

A result has one shape whatever the model: `{"video": {url, width, height, duration, fps,
content_type, file_size, poster_url}}`, or `{"images": [{url, width, height, content_type,
file_size}, …]}` — a list even for one image. Every figure is measured on the stored file
(`workers.media.probe`), never taken from the provider.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from workers.media.probe import MediaInfo
from workers.storage import get_storage


def store_output(
    job_id: uuid.UUID, files: Sequence[tuple[Path, MediaInfo]], poster: Path | None = None
) -> dict[str, Any]:
    """Store `files` (one video, or one or more images, with their probed shapes) and, for
    a video, its `poster` frame."""
    storage = get_storage()

    def put(path: Path) -> str:
        return storage.put(f"jobs/{job_id}/{path.name}", path)

    described = []
    for path, info in files:
        media: dict[str, Any] = {
            "url": put(path),
            "content_type": info.content_type,
            "width": info.width,
            "height": info.height,
            "file_size": path.stat().st_size,
        }
        if info.duration_s is not None:
            media["duration"] = info.duration_s
            media["fps"] = info.fps
        described.append(media)
    if files and files[0][1].content_type.startswith("video/"):
        video = described[0]
        if poster is not None:
            video["poster_url"] = put(poster)
        return {"video": video}
    return {"images": described}
