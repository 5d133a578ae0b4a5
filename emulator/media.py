"""What each emulated model produces (size, length, image or video), and rendering it.

Sizes follow each model's own inputs, so a client that asks for 9:16 gets a portrait file it
can probe. Rendering is lazy (on first download) and cached on the job. With stock media on
(`--stock-media`), one file is rendered per distinct spec and served to every job that has
it: a real provider renders on its own GPUs, so a load test need not pay for it on our host.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from emulator.state import Job
from workers.media.render import encode_png, encode_video, render_image, render_keyframes

FLUX_SIZES = {
    "square_hd": (1024, 1024),
    "square": (512, 512),
    "portrait_4_3": (768, 1024),
    "portrait_16_9": (576, 1024),
    "landscape_4_3": (1024, 768),
    "landscape_16_9": (1024, 576),
}
SHORT_SIDE = {"480p": 480, "580p": 576, "720p": 720, "1080p": 1080}
IMAGE_HINTS = ("flux", "image", "sdxl", "stable-diffusion", "imagen", "recraft")


@dataclass(frozen=True)
class MediaSpec:
    kind: str  # "image" | "video"
    width: int
    height: int
    duration_s: float = 0.0
    count: int = 1  # files made (images of one request)

    @property
    def content_type(self) -> str:
        return "image/png" if self.kind == "image" else "video/mp4"

    @property
    def extension(self) -> str:
        return "png" if self.kind == "image" else "mp4"


def even(value: float) -> int:
    return max(2, int(round(value / 2)) * 2)


def _by_aspect(aspect: Any, resolution: Any, default_aspect: str = "16:9") -> tuple[int, int]:
    short = SHORT_SIDE.get(str(resolution), 720)
    try:
        w, h = (float(x) for x in str(aspect or default_aspect).split(":", 1))
    except ValueError:
        w, h = 16.0, 9.0
    if w >= h:
        return even(short * w / h), short
    return short, even(short * h / w)


def _float(value: Any, default: float) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return default


def spec_for(provider: str, model: str, inp: dict[str, Any]) -> MediaSpec:
    """What a model without a schema (`schemas.yaml`) makes: guessed from the common
    input names, as the emulator did before it knew any model's schema."""
    if provider == "openai":
        w, h = (int(x) for x in str(inp.get("size") or "720x1280").split("x", 1))
        return MediaSpec("video", w, h, _float(inp.get("seconds"), 4.0))
    if provider == "gemini":
        params = inp.get("parameters") or {}
        w, h = _by_aspect(params.get("aspectRatio"), params.get("resolution", "720p"))
        return MediaSpec("video", w, h, _float(params.get("durationSeconds"), 8.0))
    if model == "fal-ai/flux/schnell" or model.startswith("fal-ai/flux/"):
        size = inp.get("image_size", "landscape_4_3")
        if isinstance(size, dict):
            return MediaSpec("image", int(size["width"]), int(size["height"]))
        w, h = FLUX_SIZES.get(str(size), FLUX_SIZES["landscape_4_3"])
        return MediaSpec("image", w, h)
    if model == "fal-ai/hunyuan-video":
        w, h = _by_aspect(inp.get("aspect_ratio"), inp.get("resolution", "720p"))
        frames = 85 if str(inp.get("num_frames", "129")) == "85" else 129
        return MediaSpec("video", w, h, round(frames / 24, 2))
    if model.startswith("fal-ai/kling-video/"):
        w, h = _by_aspect(inp.get("aspect_ratio"), "720p")
        return MediaSpec("video", w, h, _float(inp.get("duration"), 5.0))
    if model == "fal-ai/minimax/video-01":
        return MediaSpec("video", 1280, 720, 6.0)
    if model == "fal-ai/ltx-video":
        return MediaSpec("video", 768, 512, 5.0)
    # Anything else (Replicate models, unknown fal apps): the common input names.
    kind = "image" if any(h in model for h in IMAGE_HINTS) and "video" not in model else "video"
    if inp.get("width") and inp.get("height"):
        w, h = even(_float(inp["width"], 512)), even(_float(inp["height"], 512))
    else:
        default_aspect = "1:1" if kind == "image" else "16:9"
        w, h = _by_aspect(inp.get("aspect_ratio"), inp.get("resolution"), default_aspect)
    return MediaSpec(kind, w, h, 0.0 if kind == "image" else _float(inp.get("duration"), 5.0))


def render(job: Job, spec: MediaSpec, directory: Path, index: int = 0) -> Path:
    """The job's `index`th media file, rendered on first call (thread-safe; later calls
    reuse it). Each image of a request has its own seed, so they differ."""
    with job.media_lock:
        done = job.media_paths.get(index)
        if done is not None and done.exists():
            return done
        path = directory / f"{job.file_id}-{index}.{spec.extension}"
        prompt = str(job.input.get("prompt") or job.model)
        seed = int(job.input.get("seed") or 0) if str(job.input.get("seed", "")).isdigit() else 0
        draw(spec, prompt, seed, job.fps, index, path)
        job.media_paths[index] = path
        return path


def draw(spec: MediaSpec, prompt: str, seed: int, fps: int, index: int, path: Path) -> None:
    """Render one file of `spec` to `path`."""
    if spec.kind == "image":
        encode_png(render_image(prompt, spec.width, spec.height, seed=seed + index), path)
    else:
        keyframes = render_keyframes(prompt, spec.width, spec.height, spec.duration_s, seed)
        encode_video(keyframes, spec.duration_s, fps, path)


STOCK_PROMPT = "stock media"

# What makes two jobs' files interchangeable: kind, width, height, duration, fps, index.
StockKey = tuple[str, int, int, float, int, int]


@dataclass
class _StockFile:
    lock: threading.Lock = field(default_factory=threading.Lock)
    path: Path | None = None


class StockMedia:
    """One rendered file per distinct spec in `directory`, shared by every job with that spec.

    Thread-safe: concurrent first requests for one spec wait for a single render; requests
    for different specs render in parallel.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self._lock = threading.Lock()
        self._files: dict[StockKey, _StockFile] = {}

    def render(self, spec: MediaSpec, fps: int, index: int = 0) -> Path:
        key: StockKey = (spec.kind, spec.width, spec.height, spec.duration_s, fps, index)
        with self._lock:
            stock = self._files.get(key)
            if stock is None:
                stock = self._files[key] = _StockFile()
        with stock.lock:
            if stock.path is None or not stock.path.exists():
                path = self.directory / _stock_name(key, spec.extension)
                draw(spec, STOCK_PROMPT, 0, fps, index, path)
                stock.path = path
            return stock.path


def _stock_name(key: StockKey, extension: str) -> str:
    kind, width, height, duration_s, fps, index = key
    return f"stock-{kind}-{width}x{height}-{duration_s!r}s-{fps}fps-{index}.{extension}"
