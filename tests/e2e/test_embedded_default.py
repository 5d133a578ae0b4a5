"""`abstrakt-queue up` with no servers configured: SQLite, filesystem broker, local files."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.processes import answers, free_port, start, stop, wait_for
from tests.e2e.helpers import Message, Socket
from tests.webhook.receiver import Receiver
from workers.media.probe import probe

pytestmark = pytest.mark.e2e

SERVER_SETTINGS = ("DATABASE_URL", "BROKER_URL", "VAR_DIR", "STORAGE_DIR", "PUBLIC_BASE_URL")


def watch_over_websocket(base: str, key: str) -> list[Message]:
    """Generate a video over the seed's WebSocket, preview first; its job's messages."""
    with Socket(base) as socket:
        socket.send(
            {
                "action": "generate",
                "model": "local/video",
                "input": {"prompt": "a kite over the sea", "duration": 2},
                "preview": True,
                "api_key": key,
            }
        )
        accepted = socket.recv()
        assert accepted["type"] == "accepted", accepted
        return socket.until_end(accepted["job_id"])


def test_up_runs_a_job_end_to_end_and_stops_cleanly(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SERVER_SETTINGS}
    env["WEBHOOK_ALLOWLIST"] = "127.0.0.1/32"  # the receiver below listens on loopback
    receiver = Receiver()
    port = free_port()
    log = tmp_path / "up.log"
    process = start(["up", "--port", str(port)], env=env, cwd=tmp_path, log=log)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as client:

            def healthy() -> bool:
                assert process.poll() is None, log.read_text()
                return answers(f"{base}/healthz")

            wait_for(healthy, 60, "the API to answer")
            assert client.get("/v1/models").status_code == 401  # auth is on by default
            dev_key = (tmp_path / "var" / "dev-api-key").read_text().strip()
            client.headers["Authorization"] = f"Bearer {dev_key}"
            response = client.post(
                "/v1/jobs",
                json={
                    "model": "local/video",
                    "input": {"prompt": "a red fox in snow", "duration": 2, "resolution": "480p"},
                    "webhook_url": receiver.url(),
                },
            )
            assert response.status_code == 202, response.text

            def finished() -> dict[str, Any] | None:
                job: dict[str, Any] = client.get(response.json()["urls"]["get"]).json()
                return job if job["status"] in ("succeeded", "failed") else None

            job = wait_for(finished, 60, "the job to finish")
            assert job["status"] == "succeeded", job["error"]
            assert [p["name"] for p in job["phases"]] == [
                "queue_wait",
                "model_loading",
                "generation",
                "encoding",
                "upload",
            ]
            video_url = job["result"]["video"]["url"]
            assert video_url.startswith(base)
            downloaded = tmp_path / "video.mp4"
            downloaded.write_bytes(client.get(video_url).content)
            live = watch_over_websocket(base, dev_key)
            # `up` runs a webhook worker too: the job's `completed` reaches the receiver.
            wait_for(lambda: len(receiver.received()) > 0, 60, "the job's webhook")
            assert receiver.received()[0].json["data"]["id"] == job["id"]
        info = probe(downloaded)
        assert (info.codec, info.width, info.height, info.duration_s) == ("h264", 854, 480, 2.0)
        assert (tmp_path / "var" / "abstrakt.sqlite3").exists()
    finally:
        code = stop(process)
        receiver.close()
    assert code == 0, log.read_text()
    # Without Redis the stream tails the event table, and estimates come through files.
    kinds = [m["type"] for m in live]
    assert kinds[-1] == "complete"
    assert "preview" in kinds
    values = [m["progress"] for m in live if m["type"] == "progress"]
    assert values == sorted(values)
    assert values[-1] == 100
    assert "is up: API on" in log.read_text()
    assert f"new development API key: {dev_key}" in log.read_text()
