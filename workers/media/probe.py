"""Read what a media file really is, from its bytes rather than its name."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import av
from PIL import Image


@dataclass(frozen=True)
class MediaInfo:
    content_type: str
    width: int
    height: int
    duration_s: float | None = None
    codec: str | None = None
    frame_count: int | None = None
    fps: float | None = None


class NotMedia(ValueError):
    """The file is neither an image nor a video we can read."""


def probe(path: Path) -> MediaInfo:
    try:
        with Image.open(path) as image:
            fmt = (image.format or "").lower()
            return MediaInfo(content_type=f"image/{fmt}", width=image.width, height=image.height)
    except OSError:
        pass
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            if container.duration:
                duration = container.duration / 1_000_000
            else:
                duration = float((stream.duration or 0) * (stream.time_base or 0))
            fmt = container.format.name
            content_type = "video/mp4" if "mp4" in fmt else f"video/{fmt.split(',')[0]}"
            return MediaInfo(
                content_type=content_type,
                width=stream.codec_context.width,
                height=stream.codec_context.height,
                duration_s=round(duration, 3),
                codec=stream.codec_context.name,
                frame_count=stream.frames,
                fps=round(float(stream.average_rate), 3) if stream.average_rate else None,
            )
    except (av.error.FFmpegError, IndexError) as exc:
        raise NotMedia(f"{path.name} is not a readable image or video") from exc
