"""The HTTP API against real Postgres and Redis (no worker: jobs stay queued)."""

from __future__ import annotations

from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient

from tests.conftest import queued_messages, table_counts
from workers.job.tasks import generate
from workers.settings import get_settings

VIDEO_JOB = {
    "model": "local/video",
    "input": {"prompt": "a red fox in snow", "duration": 3, "resolution": "480p"},
}


class TestCreateJob:
    def test_accepts_commits_and_enqueues(
        self, client: TestClient, redis_client: redis.Redis[bytes]
    ) -> None:
        response = client.post("/v1/jobs", json=VIDEO_JOB)
        assert response.status_code == 202
        body = response.json()
        assert body["status"] == "queued"
        assert body["urls"]["get"].endswith(f"/v1/jobs/{body['id']}")
        assert table_counts()["jobs"] == 1
        assert queued_messages(redis_client) == 1
        job = client.get(f"/v1/jobs/{body['id']}").json()
        assert job["status"] == "queued"
        assert job["input"]["width"] == 854
        assert job["phases"] == []

    def test_idempotency_key_returns_same_job(
        self, client: TestClient, redis_client: redis.Redis[bytes]
    ) -> None:
        request = {**VIDEO_JOB, "idempotency_key": "order-42"}
        first = client.post("/v1/jobs", json=request)
        again = client.post("/v1/jobs", json=request)
        assert first.status_code == 202
        assert again.status_code == 200
        assert again.json()["id"] == first.json()["id"]
        assert table_counts()["jobs"] == 1
        assert queued_messages(redis_client) == 1

    def test_idempotency_key_reused_for_other_request_conflicts(self, client: TestClient) -> None:
        client.post("/v1/jobs", json={**VIDEO_JOB, "idempotency_key": "k"})
        other = {**VIDEO_JOB, "input": {"prompt": "a blue whale"}, "idempotency_key": "k"}
        response = client.post("/v1/jobs", json=other)
        assert response.status_code == 409
        assert "different request" in response.json()["detail"]

    @pytest.mark.parametrize(
        ("body", "loc", "fragment"),
        [
            ({**VIDEO_JOB, "model": "nope/model"}, ["body", "model"], "known models:"),
            (
                {"model": "local/video", "input": {"prompt": "x", "duration": 60}},
                ["body", "input", "duration"],
                "between 1 and 10",
            ),
            (
                {"model": "local/video", "input": {"prompt": "x", "resolution": "4k"}},
                ["body", "input", "resolution"],
                "allowed: 480p, 720p, 1080p",
            ),
            ({"model": "local/video", "input": {}}, ["body", "input", "prompt"], "is required"),
            ({"model": "local/video", "input": "a fox"}, ["body", "input"], "dictionary"),
            ({**VIDEO_JOB, "priority": "high"}, ["body", "priority"], "integer"),
            ({**VIDEO_JOB, "priority": 12}, ["body", "priority"], "less than or equal to 9"),
            ({"input": VIDEO_JOB["input"]}, ["body", "model"], "Field required"),
            ({**VIDEO_JOB, "model": "sora-2-pro"}, ["body", "model"], "retired"),
        ],
    )
    def test_bad_input_is_422_and_writes_nothing(
        self,
        client: TestClient,
        redis_client: redis.Redis[bytes],
        body: dict[str, Any],
        loc: list[str],
        fragment: str,
    ) -> None:
        response = client.post("/v1/jobs", json=body)
        assert response.status_code == 422, response.text
        detail = response.json()["detail"]
        matching = [d for d in detail if d["loc"] == loc]
        assert matching, detail
        assert fragment in matching[0]["msg"]
        assert table_counts() == {"jobs": 0, "job_phases": 0, "job_events": 0}
        assert queued_messages(redis_client) == 0


class TestReadApi:
    def test_unknown_job_is_404(self, client: TestClient) -> None:
        response = client.get("/v1/jobs/00000000-0000-0000-0000-000000000000")
        assert response.status_code == 404

    def test_malformed_job_id_is_422(self, client: TestClient) -> None:
        assert client.get("/v1/jobs/not-a-uuid").status_code == 422

    def test_models_lists_catalog_with_availability(self, client: TestClient) -> None:
        models = {m["id"]: m for m in client.get("/v1/models").json()}
        assert models["local/video"]["available"] is True
        assert models["local/video"]["tier"] == "fast"
        assert models["fal-ai/kling-video/v1/standard/text-to-video"]["tier"] == "quality"
        assert models["sora-2-pro"]["available"] is False
        assert "retired" in models["sora-2-pro"]["unavailable_reason"]
        assert {"fal-ai/ltx-video", "fal-ai/flux/schnell", "veo-3.1"} <= set(models)

    def test_models_show_their_price_and_its_source(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        models = {m["id"]: m["price"] for m in client.get("/v1/models").json()}
        veo = models["veo-3.1"]
        assert (veo["unit"], veo["usd"], veo["by_resolution"]) == (
            "second",
            0.4,
            {"720p": 0.4, "1080p": 0.4},
        )
        assert "Gemini API pricing" in veo["source"]
        assert veo["checked"] == "2026-11-30"
        assert (models["local/video"]["unit"], models["local/video"]["usd"]) == ("free", 0)
        monkeypatch.setattr(get_settings(), "model_prices_usd", {"veo-3.1": 0.3})
        veo = {m["id"]: m["price"] for m in client.get("/v1/models").json()}["veo-3.1"]
        assert (veo["usd"], veo["by_resolution"], veo["checked"]) == (0.3, {}, None)
        assert veo["source"] == "the MODEL_PRICES_USD setting"

    def test_healthz(self, client: TestClient) -> None:
        assert client.get("/healthz").json()["status"] == "ok"


class TestProviderKeys:
    def test_missing_key_is_refused_naming_the_setting(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch, redis_client: redis.Redis[bytes]
    ) -> None:
        monkeypatch.setattr(get_settings(), "fal_key", None)
        response = client.post(
            "/v1/jobs", json={"model": "fal-ai/ltx-video", "input": {"prompt": "x"}}
        )
        assert response.status_code == 422
        assert "set FAL_KEY" in response.json()["detail"][0]["msg"]
        assert table_counts()["jobs"] == 0
        assert queued_messages(redis_client) == 0
        models = {m["id"]: m for m in client.get("/v1/models").json()}
        assert models["fal-ai/ltx-video"]["available"] is False
        assert "FAL_KEY" in models["fal-ai/ltx-video"]["unavailable_reason"]
        assert models["veo-3.1"]["available"] is True


class TestCancel:
    def test_queued_job_cancels_and_its_message_is_then_ignored(self, client: TestClient) -> None:
        job_id = client.post("/v1/jobs", json=VIDEO_JOB).json()["id"]
        response = client.post(f"/v1/jobs/{job_id}/cancel")
        assert response.json() == {"id": job_id, "status": "canceled"}
        generate.run(job_id)  # the message still in the queue reaches a worker
        job = client.get(f"/v1/jobs/{job_id}").json()
        assert (job["status"], job["phases"], job["attempts"]) == ("canceled", [], 0)

    def test_finished_job_answers_409(self, client: TestClient) -> None:
        job_id = client.post("/v1/jobs", json=VIDEO_JOB).json()["id"]
        client.post(f"/v1/jobs/{job_id}/cancel")
        response = client.post(f"/v1/jobs/{job_id}/cancel")
        assert response.status_code == 409
        assert "already canceled" in response.json()["detail"]

    def test_unknown_job_is_404(self, client: TestClient) -> None:
        response = client.post("/v1/jobs/00000000-0000-0000-0000-000000000000/cancel")
        assert response.status_code == 404
