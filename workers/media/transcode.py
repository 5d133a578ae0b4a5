"""Post-processing of a provider's file: re-encode to the requested size and length, grab a
poster."""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
from PIL import Image


def transcode_mp4(
    source: Path, target: Path, width: int, height: int, *, max_duration_s: float | None = None
) -> None:
    """Re-encode any readable video to H.264 MP4 at `width`×`height`, keeping its frame
    rate; with `max_duration_s`, only the frames of its first that many seconds."""
    with av.open(str(source)) as src, av.open(str(target), mode="w", format="mp4") as dst:
        video_in = src.streams.video[0]
        rate = video_in.average_rate or 24
        keep = round(max_duration_s * float(rate)) if max_duration_s is not None else None
        tick = 1 / Fraction(rate)
        stream = dst.add_stream("libx264", rate=rate)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuv420p"
        stream.options = {"preset": "veryfast"}
        for index, frame in enumerate(src.decode(video_in)):
            if keep is not None and index >= max(1, keep):
                break
            resized = frame.reformat(width=width, height=height, format="yuv420p")
            # Frame by frame at the source's rate: the decoded timestamps (in the source's
            # time base) would otherwise be read in the encoder's and squash the timing.
            resized.pts, resized.time_base = index, tick
            dst.mux(stream.encode(resized))
        dst.mux(stream.encode(None))


def poster_frame(source: Path, target: Path) -> None:
    """The first frame of a video as a PNG: what a player shows before it starts."""
    with av.open(str(source)) as src:
        frame = next(src.decode(video=0))
        Image.fromarray(frame.to_ndarray(format="rgb24"), "RGB").save(target, format="PNG")
