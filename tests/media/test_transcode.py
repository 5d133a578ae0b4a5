"""Re-encoding a provider's video: to the asked size, and to the asked length."""

from __future__ import annotations

from pathlib import Path

import pytest

from workers.media.probe import probe
from workers.media.render import encode_video, render_keyframes
from workers.media.transcode import transcode_mp4


@pytest.fixture
def five_seconds(tmp_path: Path) -> Path:
    path = tmp_path / "source.mp4"
    encode_video(render_keyframes("a fox", 320, 240, 5.0, 0), 5.0, 8, path)
    return path


class TestTranscode:
    def test_a_new_size_keeps_the_timing(self, five_seconds: Path, tmp_path: Path) -> None:
        transcode_mp4(five_seconds, tmp_path / "out.mp4", 160, 120)
        info = probe(tmp_path / "out.mp4")
        assert (info.width, info.height, info.duration_s, info.fps) == (160, 120, 5.0, 8.0)

    def test_cut_to_a_length(self, five_seconds: Path, tmp_path: Path) -> None:
        transcode_mp4(five_seconds, tmp_path / "out.mp4", 320, 240, max_duration_s=3.0)
        info = probe(tmp_path / "out.mp4")
        assert (info.duration_s, info.frame_count, info.fps) == (3.0, 24, 8.0)
