"""An image-to-video job that starts from a file uploaded here, run at the emulator."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.hosted.conftest import wait_job
from tests.upload.test_uploads import png, upload

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system")]


def test_an_uploaded_image_starts_an_image_to_video_job(client: TestClient) -> None:
    url = str(upload(client, png(1280, 720))["url"])
    job = {
        "model": "fal-ai/kling-video/v2.6/pro/image-to-video",
        "input": {"prompt": "the boat sails away", "image_url": url, "duration": 5},
        "cache": False,
    }
    accepted = client.post("/v1/jobs", json=job)
    assert accepted.status_code == 202, accepted.text
    done = wait_job(client, accepted.json()["id"])
    assert done["status"] == "succeeded", done["error"]
    assert done["input"]["image_url"] == url
    assert done["result"]["video"]["duration"] == 5
