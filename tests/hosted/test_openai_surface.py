"""A hosted model through the OpenAI-compatible surface: the openai SDK asks us for a fal
video, our worker and poller get it from the emulator, and the SDK downloads its poster."""

from __future__ import annotations

import openai
import pytest
from fastapi.testclient import TestClient
from openai.types import Video

from devtools.processes import wait_for

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.usefixtures("system"),
    pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning"),
]


@pytest.fixture
def sdk(client: TestClient, api_key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url="http://testserver/v1", api_key=api_key, http_client=client)


def finished(sdk: openai.OpenAI, video_id: str) -> Video:
    def check() -> Video | None:
        video = sdk.videos.retrieve(video_id)
        return video if video.status in ("completed", "failed") else None

    return wait_for(check, 60, f"video {video_id} to finish")


def test_a_fal_video_completes_with_a_thumbnail(sdk: openai.OpenAI) -> None:
    # LTX takes neither seconds nor a size: the model's own apply, and the result tells them.
    video = sdk.videos.create(model="fal-ai/ltx-video", prompt="a glacier calving, aerial")
    done = finished(sdk, video.id)
    assert (done.status, done.error) == ("completed", None)
    assert done.seconds is not None
    assert float(done.seconds) > 0
    assert done.size is not None
    assert "x" in done.size
    assert sdk.videos.download_content(video.id).content[4:8] == b"ftyp"
    poster = sdk.videos.download_content(video.id, variant="thumbnail")
    assert poster.content.startswith(b"\x89PNG")


def test_a_provider_failure_reads_failed_with_its_message(sdk: openai.OpenAI) -> None:
    video = sdk.videos.create(model="fal-ai/ltx-video", prompt="a storm [[fail]]")
    done = finished(sdk, video.id)
    assert done.status == "failed"
    assert done.error is not None
    assert done.error.code
    assert done.error.message
    with pytest.raises(openai.BadRequestError) as raised:
        sdk.videos.download_content(video.id)
    assert f"video {video.id} failed: {done.error.message}" in raised.value.message
