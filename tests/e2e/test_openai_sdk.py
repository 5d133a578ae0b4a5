"""The official `openai` SDK, unchanged, against a real API process and a real worker: it
creates, polls and downloads a video and generates images, and what it made is our job."""

from __future__ import annotations

import base64
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from devtools.processes import answers, free_port, start, stop, wait_for
from tests.e2e.helpers import api_and_worker
from workers.db.engine import session_scope
from workers.key import service
from workers.media.probe import probe

pytestmark = [
    pytest.mark.e2e,
    # The SDK marks its Videos API deprecated (OpenAI retires Sora); the shape is what we serve.
    pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning"),
]

PHASES = ["queue_wait", "model_loading", "generation", "encoding", "upload"]


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An API process and a worker whose generation takes long enough to be seen running."""
    with api_and_worker(tmp_path_factory.mktemp("openai-sdk"), LOCAL_GENERATION_S="1.0") as url:
        yield url


@pytest.fixture
def sdk(base: str, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{base}/v1", api_key=api_key)


@pytest.fixture
def http(base: str, api_key: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        yield client


def video_of(prompt: str, **fields: Any) -> dict[str, Any]:
    # Sizes beyond OpenAI's four are ours to accept; the SDK's types list only theirs.
    return {"model": "local/video", "prompt": prompt, "seconds": "4", "size": "854x480", **fields}


class TestVideos:
    def test_the_sdk_creates_polls_and_downloads_a_video_that_is_our_job(
        self, sdk: openai.OpenAI, http: httpx.Client, tmp_path: Path
    ) -> None:
        video = sdk.videos.create_and_poll(**video_of("a paper boat on a river"))
        assert (video.status, video.progress, video.error) == ("completed", 100, None)
        assert (video.seconds, video.size, video.model) == ("4", "854x480", "local/video")
        content = sdk.videos.download_content(video.id)
        content.write_to_file(tmp_path / "boat.mp4")
        info = probe(tmp_path / "boat.mp4")
        assert (info.content_type, info.codec) == ("video/mp4", "h264")
        assert (info.width, info.height, info.duration_s) == (854, 480, 4.0)
        job = http.get(f"/v1/jobs/{video.id}").json()
        assert job["status"] == "succeeded"
        assert [p["name"] for p in job["phases"]] == PHASES
        assert job["result"]["video"]["duration"] == 4.0
        assert job["cost"]["actual_usd"] == 0

    def test_progress_rises_while_in_progress(self, sdk: openai.OpenAI) -> None:
        video = sdk.videos.create(**video_of("a kite over dunes", seconds="6"))
        seen: list[int] = []

        def finished() -> bool:
            polled = sdk.videos.retrieve(video.id)
            if polled.status == "in_progress":
                seen.append(polled.progress)
            return polled.status == "completed"

        wait_for(finished, 60, "the video to complete", interval_s=0.1)
        assert seen, "never seen in_progress"
        assert all(0 < value < 100 for value in seen)
        assert seen == sorted(seen)

    def test_a_cache_hit_is_completed_at_creation(
        self, sdk: openai.OpenAI, http: httpx.Client
    ) -> None:
        first = sdk.videos.create_and_poll(**video_of("a lighthouse at dusk", seconds="1"))
        again = sdk.videos.create(**video_of("a lighthouse at dusk", seconds="1"))
        assert again.id != first.id
        assert again.status == "completed"
        assert http.get(f"/v1/jobs/{again.id}").json()["cache_hit"] is True
        assert sdk.videos.download_content(again.id).content == (
            sdk.videos.download_content(first.id).content
        )

    def test_each_owner_sees_only_its_own_videos(self, sdk: openai.OpenAI, base: str) -> None:
        with session_scope() as session:
            _, bob_key = service.create(session, name="bob")
        bob = openai.OpenAI(base_url=f"{base}/v1", api_key=bob_key)
        mine = sdk.videos.create(**video_of("a red fox", seconds="1"))
        theirs = bob.videos.create(**video_of("a blue whale", seconds="1"))
        assert [v.id for v in sdk.videos.list()] == [mine.id]
        assert [v.id for v in bob.videos.list()] == [theirs.id]
        with pytest.raises(openai.NotFoundError):
            bob.videos.retrieve(mine.id)
        with pytest.raises(openai.NotFoundError):
            bob.videos.download_content(mine.id)

    def test_errors_are_the_sdks_typed_exceptions_with_our_message(
        self, sdk: openai.OpenAI, base: str
    ) -> None:
        with pytest.raises(openai.BadRequestError) as raised:
            sdk.videos.create(**video_of("a fox", model="nope/model"))
        assert "unknown model 'nope/model'" in raised.value.message
        stranger = openai.OpenAI(base_url=f"{base}/v1", api_key="ak_wrong", max_retries=0)
        with pytest.raises(openai.AuthenticationError) as denied:
            stranger.videos.list()
        assert "a valid API key is required" in denied.value.message


class TestImages:
    def test_generate_waits_and_answers_a_url_of_our_png(
        self, sdk: openai.OpenAI, http: httpx.Client, tmp_path: Path
    ) -> None:
        response = sdk.images.with_raw_response.generate(
            model="local/image", prompt="an owl on a branch", size="640x360"
        )
        images = response.parse()
        assert images.data is not None
        [image] = images.data
        assert image.url is not None
        (tmp_path / "owl.png").write_bytes(httpx.get(image.url).content)
        info = probe(tmp_path / "owl.png")
        assert (info.content_type, info.width, info.height) == ("image/png", 640, 360)
        job = http.get(f"/v1/jobs/{response.headers['X-Job-Id']}").json()
        assert (job["status"], [p["name"] for p in job["phases"]]) == ("succeeded", PHASES)

    def test_b64_json_carries_the_png_itself(self, sdk: openai.OpenAI) -> None:
        images = sdk.images.generate(
            model="local/image", prompt="a teapot", response_format="b64_json"
        )
        assert images.data is not None
        assert images.data[0].b64_json is not None
        assert base64.b64decode(images.data[0].b64_json).startswith(b"\x89PNG")


SERVER_SETTINGS = ("DATABASE_URL", "BROKER_URL", "VAR_DIR", "STORAGE_DIR", "PUBLIC_BASE_URL")


def test_the_embedded_default_serves_the_sdk_too(tmp_path: Path) -> None:
    """`up` on SQLite and the filesystem broker, no Redis: the images wait follows the job by
    tailing the event table."""
    env = {k: v for k, v in os.environ.items() if k not in SERVER_SETTINGS}
    port = free_port()
    log = tmp_path / "up.log"
    process = start(["up", "--port", str(port)], env=env, cwd=tmp_path, log=log)
    base = f"http://127.0.0.1:{port}"
    try:

        def healthy() -> bool:
            assert process.poll() is None, log.read_text()
            return answers(f"{base}/healthz")

        wait_for(healthy, 60, "the API to answer")
        key = (tmp_path / "var" / "dev-api-key").read_text().strip()
        sdk = openai.OpenAI(base_url=f"{base}/v1", api_key=key)
        images = sdk.images.generate(model="local/image", prompt="a heron", size="256x256")
        assert images.data is not None
        assert images.data[0].url is not None
        assert httpx.get(images.data[0].url).content.startswith(b"\x89PNG")
        video = sdk.videos.create_and_poll(**video_of("a heron taking off", seconds="1"))
        assert video.status == "completed", video.error
        assert sdk.videos.download_content(video.id).content[4:8] == b"ftyp"
    finally:
        assert stop(process) == 0, log.read_text()
