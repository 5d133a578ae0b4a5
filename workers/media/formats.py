"""Media vocabulary shared by every layer: the kinds of output and the named sizes.

A leaf module (no imports from the project), so the catalog, providers and jobs can all
use it without importing each other.
"""

from __future__ import annotations

from enum import StrEnum


class MediaKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    AUDIO = "audio"


# Resolution presets are landscape 16:9 sizes; an aspect ratio rotates or crops them.
PRESETS: dict[str, tuple[int, int]] = {
    "480p": (854, 480),
    "720p": (1280, 720),
    "1080p": (1920, 1080),
}
