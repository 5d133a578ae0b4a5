"""`stock_media` serves one rendered file per distinct spec, instead of one per job."""

from __future__ import annotations

import argparse
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from emulator import media
from emulator.cli import add_arguments, config_from_args
from emulator.config import EmulatorConfig, ModelSettings
from emulator.media import MediaSpec, StockMedia
from emulator.testing import EmulatorServer
from workers.provider.fal import FalProvider

API_KEY = "stock-key"
MODEL = "fal-ai/ltx-video"
SETTINGS = ModelSettings(queue_s=0, generation_s=0, fps=2, media_scale=0.1)


@pytest.fixture
def draws(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Every file the renderer draws, in order (the real renderer still runs)."""
    drawn: list[Path] = []
    real = media.draw

    def counting(spec: MediaSpec, prompt: str, seed: int, fps: int, index: int, path: Path) -> None:
        drawn.append(path)
        real(spec, prompt, seed, fps, index, path)

    monkeypatch.setattr(media, "draw", counting)
    return drawn


@pytest.fixture(params=[True, False], ids=["stock", "per-job"])
def server(request: pytest.FixtureRequest) -> Iterator[EmulatorServer]:
    config = EmulatorConfig(defaults=SETTINGS, api_key=API_KEY, stock_media=request.param)
    with EmulatorServer(config) as running:
        yield running


def _download(server: EmulatorServer, prompts: list[str], directory: Path) -> list[bytes]:
    """Each prompt's video, fetched from its job's own URL."""
    fal = FalProvider(API_KEY, server.url)
    try:
        contents, urls = [], set()
        for i, prompt in enumerate(prompts):
            outputs = fal.result(MODEL, fal.submit(MODEL, {"prompt": prompt}))
            urls.add(outputs[0].url)
            fal.download(outputs[0], directory / f"{i}.mp4")
            contents.append((directory / f"{i}.mp4").read_bytes())
    finally:
        fal.close()
    assert len(urls) == len(prompts)  # shared bytes, yet each job keeps its own file id
    return contents


def test_jobs_with_one_spec_share_one_file(
    server: EmulatorServer, draws: list[Path], tmp_path: Path
) -> None:
    first, second = _download(server, ["a red fox", "a blue whale"], tmp_path)
    if server.ctx.config.stock_media:
        assert first == second
        assert len(draws) == 1
    else:
        assert first != second
        assert len(draws) == 2


def test_concurrent_first_requests_render_once(draws: list[Path], tmp_path: Path) -> None:
    stock = StockMedia(tmp_path)
    spec = MediaSpec("image", 32, 16)
    start = threading.Barrier(8)
    paths: list[Path] = []

    def fetch() -> None:
        start.wait()
        paths.append(stock.render(spec, 24))

    threads = [threading.Thread(target=fetch) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(draws) == 1
    assert set(paths) == {draws[0]}
    # Another index (the next image of a request) is another file.
    assert stock.render(spec, 24, index=1) != draws[0]
    assert len(draws) == 2


def test_cli_flag() -> None:
    parser = argparse.ArgumentParser()
    add_arguments(parser)
    assert not config_from_args(parser.parse_args([])).stock_media
    assert config_from_args(parser.parse_args(["--stock-media"])).stock_media
