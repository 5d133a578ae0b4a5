"""The latency tutorial's calls, exactly as written, through the whole system: API → worker
→ emulator (which checks every field against the model's wire schema) → poller → storage,
with media of the asked length; and images always as a list."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from emulator.testing import EmulatorServer
from tests.hosted.conftest import submissions, wait_job
from workers.media.probe import probe
from workers.settings import get_settings

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system")]


def stored(url: str) -> Any:
    return probe(get_settings().storage_dir / url.split("/media/", 1)[1])


# (model, input, seconds of the stored video): as the tutorial writes them.
TUTORIAL_VIDEOS = [
    ("fal-ai/ltx-video", {"prompt": "...", "duration": 3}, 3.0),
    ("fal-ai/hunyuan-video", {"prompt": "...", "duration": 5}, 5.0),
    ("fal-ai/kling-video/v1/standard/text-to-video", {"prompt": "..."}, 5.0),
    ("fal-ai/minimax/video-01", {"prompt": "..."}, 6.0),
]


class TestTutorial:
    @pytest.mark.parametrize(
        ("model", "params", "seconds"), TUTORIAL_VIDEOS, ids=[c[0] for c in TUTORIAL_VIDEOS]
    )
    def test_video_of_the_asked_length(
        self,
        client: TestClient,
        emulator: EmulatorServer,
        model: str,
        params: dict[str, Any],
        seconds: float,
    ) -> None:
        response = client.post("/v1/jobs", json={"model": model, "input": params})
        assert response.status_code == 202, response.text
        job = wait_job(client, response.json()["id"])
        assert job["status"] == "succeeded", job["error"]
        video = job["result"]["video"]
        info = stored(video["url"])
        assert info.duration_s == pytest.approx(seconds, abs=0.01)
        assert (video["duration"], video["width"], video["height"]) == (
            info.duration_s,
            info.width,
            info.height,
        )
        assert video["fps"] == info.fps
        assert video["content_type"] == "video/mp4"
        assert video["file_size"] > 0
        assert video["poster_url"].endswith("poster.png")
        assert submissions(emulator) == {model: 1}  # accepted by the model's wire schema

    def test_preview_image_through_an_alias(self, client: TestClient) -> None:
        response = client.post(
            "/v1/jobs",
            json={"model": "flux-schnell", "input": {"prompt": "a fox, first frame of video"}},
        )
        job = wait_job(client, response.json()["id"])
        assert job["status"] == "succeeded", job["error"]
        assert job["model"] == "fal-ai/flux/schnell"
        [image] = job["result"]["images"]  # `preview.images[0].url`, as the tutorial reads it
        info = stored(image["url"])
        assert (image["width"], image["height"], image["content_type"]) == (
            info.width,
            info.height,
            info.content_type,
        )
        assert set(image) == {"url", "width", "height", "content_type", "file_size"}


class TestManyImages:
    @pytest.mark.parametrize(
        ("model", "wire_field"),
        [("fal-ai/flux/schnell", "num_images"), ("black-forest-labs/flux-schnell", "num_outputs")],
    )
    def test_every_image_is_stored(
        self, client: TestClient, emulator: EmulatorServer, model: str, wire_field: str
    ) -> None:
        response = client.post(
            "/v1/jobs", json={"model": model, "input": {"prompt": "three lamps", "num_images": 3}}
        )
        job = wait_job(client, response.json()["id"])
        assert job["status"] == "succeeded", job["error"]
        images = job["result"]["images"]
        assert len({image["url"] for image in images}) == 3
        for image in images:
            assert stored(image["url"]).width == image["width"]
        [sent] = [j.body for j in emulator.ctx.store.listing(emulator_provider(model))]
        assert sent is not None
        assert sent[wire_field] == 3
        # Both bill each image: $0.003 an image, or a 1024×768 one rounded up to 1 MP.
        assert job["cost"]["actual_usd"] == pytest.approx(3 * 0.003)


def emulator_provider(model: str) -> str:
    return "fal" if model.startswith("fal-ai/") else "replicate"
