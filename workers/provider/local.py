"""The built-in local provider: renders real media on this machine's CPU.

Its model loading and generation take settable simulated time on top of the real rendering,
so every phase of a job is measurable without a GPU or a network.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from workers.media.render import Frame, encode_png, encode_video, render_image, render_keyframes
from workers.provider.base import OutputFile
from workers.shutdown import pause


@dataclass(frozen=True)
class Rendered:
    frames: list[Frame]
    duration_s: float | None  # None for an image


class LocalProvider:
    name = "local"

    def __init__(self, *, model_loading_s: float, generation_s: float, fps: int) -> None:
        self.model_loading_s = model_loading_s
        self.generation_s = generation_s
        self.fps = fps

    def load(self, model: str) -> None:
        pause(self.model_loading_s)  # stands in for reading weights into memory

    def generate(
        self,
        model: str,
        params: dict[str, Any],
        on_first_frame: Callable[[Frame], None] | None = None,
    ) -> Rendered:
        """Render the output; a video's first frame is drawn first and handed to
        `on_first_frame` before the rest (a preview while the model works)."""
        prompt, width, height = params["prompt"], params["width"], params["height"]
        seed = params.get("seed", 0)
        duration = params.get("duration")
        if duration is None:
            pause(self.generation_s)  # stands in for the model's sampling steps
            count = int(params.get("num_images", 1))
            images = [render_image(prompt, width, height, seed + i) for i in range(count)]
            return Rendered(images, None)
        if on_first_frame is not None:
            on_first_frame(render_image(prompt, width, height, seed))
        pause(self.generation_s)
        return Rendered(render_keyframes(prompt, width, height, duration, seed), float(duration))

    def encode(self, rendered: Rendered, workdir: Path, fps: int | None = None) -> list[OutputFile]:
        """One MP4 for a video (at `fps`, else the provider's own rate); one PNG per image."""
        height, width = rendered.frames[0].shape[:2]
        if rendered.duration_s is None:
            files = []
            for index, frame in enumerate(rendered.frames):
                name = "output" if len(rendered.frames) == 1 else f"output-{index}"
                path = workdir / f"{name}.png"
                encode_png(frame, path)
                files.append(
                    OutputFile(content_type="image/png", path=path, width=width, height=height)
                )
            return files
        path = workdir / "output.mp4"
        encode_video(rendered.frames, rendered.duration_s, fps or self.fps, path)
        return [
            OutputFile(
                content_type="video/mp4",
                path=path,
                width=width,
                height=height,
                duration_s=rendered.duration_s,
            )
        ]
