"""API → Redis → a real Celery worker process → Postgres → a real media file."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from devtools.processes import start, stop, wait_for, worker_answers
from workers.celery_app import app as celery_app
from workers.media.probe import probe
from workers.settings import get_settings

pytestmark = pytest.mark.e2e
PHASES = ["queue_wait", "model_loading", "generation", "encoding", "upload"]


@pytest.fixture(scope="module")
def worker(tmp_path_factory: pytest.TempPathFactory) -> Iterator[subprocess.Popen[bytes]]:
    log = tmp_path_factory.mktemp("worker") / "worker.log"
    process = start(["worker", "--concurrency", "2"], env=os.environ, cwd=Path.cwd(), log=log)

    def ready() -> bool:
        assert process.poll() is None, log.read_text()
        return worker_answers(celery_app)

    wait_for(ready, 60, "the worker to answer a ping")
    yield process
    assert stop(process) == 0, log.read_text()


def run_to_end(client: TestClient, body: dict[str, Any]) -> dict[str, Any]:
    response = client.post("/v1/jobs", json=body)
    assert response.status_code == 202, response.text
    url = f"/v1/jobs/{response.json()['id']}"

    def finished() -> dict[str, Any] | None:
        job: dict[str, Any] = client.get(url).json()
        return job if job["status"] in ("succeeded", "failed", "canceled") else None

    return wait_for(finished, 60, f"{url} to finish")


def stored_file(url: str) -> Path:
    return get_settings().storage_dir / url.split("/media/", 1)[1]


def wall_ms(job: dict[str, Any]) -> float:
    from datetime import datetime

    start_, end = (datetime.fromisoformat(job[k]) for k in ("enqueued_at", "finished_at"))
    return (end - start_).total_seconds() * 1000


@pytest.mark.usefixtures("worker")
class TestServerPath:
    def test_video_job_runs_to_a_playable_mp4(self, client: TestClient) -> None:
        job = run_to_end(
            client,
            {
                "model": "local/video",
                "input": {"prompt": "a red fox in snow", "duration": 3, "resolution": "480p"},
            },
        )
        assert job["status"] == "succeeded", job["error"]
        assert [p["name"] for p in job["phases"]] == PHASES
        assert all(p["attempt"] == 1 for p in job["phases"])
        total = sum(p["duration_ms"] for p in job["phases"])
        assert abs(total - wall_ms(job)) <= 5
        video = job["result"]["video"]
        assert set(video) == {
            "url",
            "width",
            "height",
            "duration",
            "fps",
            "content_type",
            "file_size",
        }  # a local video has no poster
        assert (video["width"], video["height"], video["duration"]) == (854, 480, 3.0)
        info = probe(stored_file(video["url"]))
        assert video["fps"] == info.fps
        assert (info.content_type, info.codec) == ("video/mp4", "h264")
        assert (info.width, info.height, info.duration_s) == (854, 480, 3.0)
        assert client.get(video["url"].replace("http://testserver", "")).status_code == 200

    def test_image_job_runs_to_a_png(self, client: TestClient) -> None:
        job = run_to_end(
            client,
            {
                "model": "local/image",
                "input": {"prompt": "a lighthouse", "resolution": {"width": 640, "height": 360}},
            },
        )
        assert job["status"] == "succeeded", job["error"]
        assert [p["name"] for p in job["phases"]] == PHASES
        assert abs(sum(p["duration_ms"] for p in job["phases"]) - wall_ms(job)) <= 5
        [image] = job["result"]["images"]  # a list, even of one
        info = probe(stored_file(image["url"]))
        assert (info.content_type, info.width, info.height) == ("image/png", 640, 360)
        size = stored_file(image["url"]).stat().st_size
        assert (image["width"], image["height"], image["file_size"]) == (640, 360, size)

    def test_phases_are_visible_while_running(self, client: TestClient) -> None:
        response = client.post(
            "/v1/jobs",
            json={
                "model": "local/video",
                "input": {"prompt": "slow", "duration": 10, "resolution": "1080p"},
            },
        )
        url = f"/v1/jobs/{response.json()['id']}"

        def partial() -> dict[str, Any] | None:
            job: dict[str, Any] = client.get(url).json()
            names = [p["name"] for p in job["phases"]]
            return job if job["status"] == "running" and "generation" in names else None

        job = wait_for(partial, 60, "a running job with finished phases")
        assert [p["name"] for p in job["phases"]][:3] == PHASES[:3]
        done = wait_for(
            lambda: (j := client.get(url).json())["status"] == "succeeded" and j or None,
            60,
            "the job to finish",
        )
        assert [p["name"] for p in done["phases"]] == PHASES
