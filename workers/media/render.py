"""Deterministic CPU rendering: the same prompt and size always give the same pixels.

A render is split the way a model's work is: `render_keyframes` is the generation (one frame
per second of output, drawn from the prompt), and `encode_video` / `encode_png` is the
encoding (interpolating keyframes to the frame rate, H.264 in MP4, or PNG).
"""

from __future__ import annotations

import hashlib
import math
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import av
import numpy as np
from numpy.typing import NDArray
from PIL import Image, ImageDraw, ImageFont

Frame = NDArray[np.uint8]


@dataclass(frozen=True)
class Palette:
    background: tuple[int, int, int]
    accent: tuple[int, int, int]
    shapes: tuple[tuple[float, float, float, tuple[int, int, int]], ...]  # x, y, radius, colour


def palette_for(prompt: str, seed: int = 0) -> Palette:
    """Colours and shapes chosen by a hash of the prompt, so output follows the input."""
    digest = hashlib.sha256(f"{seed}:{prompt}".encode()).digest()

    def colour(offset: int) -> tuple[int, int, int]:
        return (digest[offset], digest[offset + 1], digest[offset + 2])

    shapes = tuple(
        (
            digest[6 + i] / 255,
            digest[12 + i] / 255,
            0.05 + digest[18 + i] / 255 * 0.2,
            colour(20 + i),
        )
        for i in range(5)
    )
    return Palette(background=colour(0), accent=colour(3), shapes=shapes)


def _draw_frame(prompt: str, palette: Palette, width: int, height: int, phase: float) -> Frame:
    y = np.linspace(0.0, 1.0, height, dtype=np.float32)[:, None, None]
    top = np.array(palette.background, dtype=np.float32)
    bottom = np.array(palette.accent, dtype=np.float32)
    gradient = np.broadcast_to(top * (1 - y) + bottom * y, (height, width, 3))
    image = Image.fromarray(gradient.astype(np.uint8), "RGB")
    draw = ImageDraw.Draw(image)
    scale = min(width, height)
    for index, (x, yy, radius, fill) in enumerate(palette.shapes):
        angle = 2 * math.pi * (phase + index / len(palette.shapes))
        cx = (x + 0.1 * math.cos(angle)) * width
        cy = (yy + 0.1 * math.sin(angle)) * height
        r = radius * scale
        draw.ellipse((cx - r, cy - r, cx + r, cy + r), fill=fill)
    font = ImageFont.load_default(size=max(12, scale // 18))
    caption = "\n".join(textwrap.wrap(prompt, width=40)[:3])
    draw.multiline_text((scale // 20, scale // 20), caption, fill=(255, 255, 255), font=font)
    return np.asarray(image, dtype=np.uint8)


def render_image(prompt: str, width: int, height: int, seed: int = 0) -> Frame:
    return _draw_frame(prompt, palette_for(prompt, seed), width, height, phase=0.0)


def render_keyframes(
    prompt: str, width: int, height: int, duration_s: float, seed: int = 0
) -> list[Frame]:
    """One keyframe per second of video plus the closing one."""
    palette = palette_for(prompt, seed)
    count = max(1, math.ceil(duration_s)) + 1
    return [
        _draw_frame(prompt, palette, width, height, phase=i / (count - 1)) for i in range(count)
    ]


def _interpolated(keyframes: list[Frame], frame_count: int) -> Iterator[Frame]:
    spans = len(keyframes) - 1
    for i in range(frame_count):
        position = i / max(1, frame_count - 1) * spans
        left = min(int(position), spans - 1) if spans else 0
        weight = position - left
        a = keyframes[left].astype(np.float32)
        b = keyframes[min(left + 1, spans)].astype(np.float32)
        yield (a * (1 - weight) + b * weight).astype(np.uint8)


def encode_video(keyframes: list[Frame], duration_s: float, fps: int, path: Path) -> None:
    """Encode to H.264 in MP4 with exactly `duration_s * fps` frames."""
    height, width = keyframes[0].shape[:2]
    frame_count = max(1, round(duration_s * fps))
    with av.open(str(path), mode="w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=fps)
        stream.width = width
        stream.height = height
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "ultrafast"}
        for array in _interpolated(keyframes, frame_count):
            frame = av.VideoFrame.from_ndarray(array, format="rgb24")
            container.mux(stream.encode(frame))
        container.mux(stream.encode(None))


def encode_png(frame: Frame, path: Path) -> None:
    Image.fromarray(frame, "RGB").save(path, format="PNG")
