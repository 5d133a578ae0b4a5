"""A model added through MODELS_FILE alone — no code — runs a job end to end: the API, the
worker and the poller all read the operator's file, and the emulator checks the fields."""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
import yaml
from fastapi.testclient import TestClient

from emulator.testing import EmulatorServer
from tests.hosted.conftest import submissions, wait_job
from workers.catalog import registry
from workers.settings import get_settings

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system")]

WIRE_ID = "fal-ai/kling-video/v1/standard/image-to-video"
OPERATOR_MODELS = {
    "models": [
        {
            "id": "acme/kling-i2v",
            "aliases": ["kling-i2v"],
            "provider": "fal",
            "wire_id": WIRE_ID,
            "kind": "video",
            "task": "image-to-video",
            "tier": "quality",
            "typical_latency_s": 90,
            "description": "Kling 1.0 standard image-to-video, from the operator's file.",
            "inputs": {
                "prompt": {"max_length": 2500},
                "image_url": {},
                "negative_prompt": {"max_length": 2500},
                "duration": {"choices": [5, 10], "default": 5, "to": "duration", "as": "string"},
            },
            "price": {
                "unit": "second",
                "usd": 0.045,
                "source": "fal model page of Kling 1.0 standard image-to-video",
                "checked": "2026-11-30",
            },
        },
        {"id": "fal-ai/ltx-video", "typical_latency_s": 12},  # an override of a shipped one
    ]
}


@pytest.fixture(scope="module")
def models_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("operator") / "models.yaml"
    path.write_text(yaml.safe_dump(OPERATOR_MODELS))
    return path


@pytest.fixture(scope="module")
def system_env(models_file: Path) -> Mapping[str, str]:
    return {**os.environ, "MODELS_FILE": str(models_file)}


@pytest.fixture(autouse=True)
def api_reads_it(models_file: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The in-process API reads the same file (before the app is made, at each test)."""
    monkeypatch.setattr(get_settings(), "models_file", models_file)
    registry.reload()
    yield
    monkeypatch.undo()
    registry.reload()


class TestModelsFile:
    def test_the_added_model_is_listed_and_the_override_applies(self, client: TestClient) -> None:
        models = {m["id"]: m for m in client.get("/v1/models").json()}
        added = models["acme/kling-i2v"]
        assert (added["task"], added["aliases"], added["available"]) == (
            "image-to-video",
            ["kling-i2v"],
            True,
        )
        assert "image_url" in added["accepted_inputs"]
        assert models["fal-ai/ltx-video"]["typical_latency_s"] == 12

    def test_a_job_runs_end_to_end_on_it(
        self, client: TestClient, emulator: EmulatorServer
    ) -> None:
        response = client.post(
            "/v1/jobs",
            json={
                "model": "kling-i2v",
                "input": {"prompt": "the cat turns", "image_url": "https://example.com/cat.png"},
            },
        )
        assert response.status_code == 202, response.text
        job = wait_job(client, response.json()["id"])
        assert job["status"] == "succeeded", job["error"]
        assert job["model"] == "acme/kling-i2v"
        assert job["result"]["video"]["duration"] == 5.0
        assert submissions(emulator) == {WIRE_ID: 1}
        [sent] = emulator.ctx.store.listing("fal")
        assert sent.body == {
            "prompt": "the cat turns",
            "image_url": "https://example.com/cat.png",
            "duration": "5",
        }

    def test_its_limits_are_422s_naming_the_field(self, client: TestClient) -> None:
        response = client.post(
            "/v1/jobs",
            json={"model": "acme/kling-i2v", "input": {"prompt": "x", "duration": 7}},
        )
        assert response.status_code == 422
        errors = {tuple(e["loc"]): e["msg"] for e in response.json()["detail"]}
        assert errors == {
            ("body", "input", "duration"): "7 s is not offered by acme/kling-i2v; allowed: 5, 10",
            ("body", "input", "image_url"): "is required: the https URL of the image to start from",
        }
