"""`media_scale` renders smaller files for load tests; the protocol stays the same."""

from __future__ import annotations

from pathlib import Path

import httpx

from emulator.testing import EmulatorServer
from workers.media.probe import probe
from workers.provider.fal import FalProvider


def test_media_is_rendered_at_the_configured_fraction(
    emulator: EmulatorServer, api_key: str, tmp_path: Path
) -> None:
    model = "fal-ai/flux/schnell"
    httpx.post(
        f"{emulator.url}/_emulator/config",
        json={"model": model, "media_scale": 0.25, "queue_s": 0, "generation_s": 0},
    ).raise_for_status()
    fal = FalProvider(api_key, emulator.url)
    try:
        submission = fal.submit(
            model, {"prompt": "small", "image_size": {"width": 512, "height": 256}}
        )
        outputs = fal.result(model, submission)
        fal.download(outputs[0], tmp_path / "out.png")
    finally:
        fal.close()
    info = probe(tmp_path / "out.png")
    assert (info.width, info.height) == (128, 64)
