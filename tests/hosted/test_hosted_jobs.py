"""Hosted models through the whole system: API → worker → emulator → poller → storage."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient

from devtools.processes import wait_for
from emulator.testing import EmulatorServer
from tests.hosted.conftest import submissions, wait_job
from workers.media.probe import probe
from workers.settings import get_settings

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system")]
PHASES = ["queue_wait", "model_loading", "generation", "encoding", "upload"]


def wall_ms(job: dict[str, Any]) -> float:
    start, end = (datetime.fromisoformat(job[k]) for k in ("enqueued_at", "finished_at"))
    return (end - start).total_seconds() * 1000


@pytest.fixture
def allow_retired(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sora is retired by OpenAI; its protocol is still tested through a willing gateway."""
    monkeypatch.setattr(get_settings(), "allow_retired_models", True)


CASES = [
    ("fal-ai/ltx-video", {"prompt": "a red fox in snow"}, "video"),
    (
        "fal-ai/flux/schnell",
        {"prompt": "a lighthouse", "resolution": {"width": 320, "height": 240}},
        "image",
    ),
    ("minimax/video-01", {"prompt": "waves at night"}, "video"),
    ("black-forest-labs/flux-schnell", {"prompt": "a teapot", "aspect_ratio": "16:9"}, "image"),
    ("veo-3.1", {"prompt": "a city at dawn", "duration": 4, "resolution": "720p"}, "video"),
    ("sora-2", {"prompt": "a paper boat", "duration": 4}, "video"),
]


class TestHostedJobs:
    @pytest.mark.usefixtures("allow_retired")
    @pytest.mark.parametrize(("model", "params", "kind"), CASES, ids=[c[0] for c in CASES])
    def test_runs_to_a_stored_file_with_one_submission(
        self,
        client: TestClient,
        emulator: EmulatorServer,
        model: str,
        params: dict[str, Any],
        kind: str,
    ) -> None:
        response = client.post("/v1/jobs", json={"model": model, "input": params})
        assert response.status_code == 202, response.text
        job = wait_job(client, response.json()["id"])
        assert job["status"] == "succeeded", job["error"]
        assert [p["name"] for p in job["phases"]] == PHASES
        assert abs(sum(p["duration_ms"] for p in job["phases"]) - wall_ms(job)) <= 5
        assert job["provider"]["request_id"]
        assert sum(submissions(emulator).values()) == 1
        media = job["result"]["video"] if kind == "video" else job["result"]["images"][0]
        info = probe(get_settings().storage_dir / media["url"].split("/media/", 1)[1])
        assert (info.width, info.height) == (media["width"], media["height"])
        if kind == "video":
            assert info.codec == "h264"
            assert media["poster_url"].endswith("poster.png")
        if "width" in job["input"]:
            assert (info.width, info.height) == (job["input"]["width"], job["input"]["height"])

    def test_provider_failure_fails_the_job_with_its_message(self, client: TestClient) -> None:
        response = client.post(
            "/v1/jobs", json={"model": "fal-ai/ltx-video", "input": {"prompt": "boom [[fail]]"}}
        )
        job = wait_job(client, response.json()["id"])
        assert job["status"] == "failed"
        assert job["error"]["message"]
        assert (job["cost"]["estimated_usd"], job["cost"]["actual_usd"]) == (0.2, 0)
        assert "sk-test" not in job["error"]["message"]

    def test_rejected_input_fails_at_once_without_retry(
        self, client: TestClient, emulator: EmulatorServer
    ) -> None:
        response = client.post(
            "/v1/jobs", json={"model": "minimax/video-01", "input": {"prompt": "no [[reject]]"}}
        )
        job = wait_job(client, response.json()["id"])
        assert (job["status"], job["attempts"]) == ("failed", 1)
        assert job["error"]["code"] == "provider_rejected"

    def test_transient_submit_errors_are_retried_then_succeed(
        self, client: TestClient, emulator: EmulatorServer, configure: Any
    ) -> None:
        configure(model="fal-ai/ltx-video", fault_rate=1.0, faults=["429"])
        job_id = client.post(
            "/v1/jobs", json={"model": "fal-ai/ltx-video", "input": {"prompt": "try again"}}
        ).json()["id"]
        wait_job(client, job_id, until=lambda j: j["attempts"] >= 2)
        configure(model="fal-ai/ltx-video", fault_rate=0.0)
        job = wait_job(client, job_id)
        assert job["status"] == "succeeded", job["error"]
        assert job["attempts"] >= 2
        # A 429 refuses the request before it is accepted: never a second submission.
        assert submissions(emulator) == {"fal-ai/ltx-video": 1}

    def test_persistent_transient_errors_give_up_with_a_clear_error(
        self, client: TestClient, configure: Any
    ) -> None:
        configure(model="fal-ai/hunyuan-video", fault_rate=1.0, faults=["503"])
        response = client.post(
            "/v1/jobs", json={"model": "fal-ai/hunyuan-video", "input": {"prompt": "never"}}
        )
        job = wait_job(client, response.json()["id"])
        assert job["status"] == "failed"
        assert job["error"]["code"] == "provider_unavailable"
        assert job["error"]["message"].startswith("gave up after 3 attempts")


class TestCancel:
    @pytest.mark.parametrize(
        ("settings", "remote_state"),
        [
            ({"queue_s": 30, "generation_s": 1}, "queued"),
            ({"queue_s": 0, "generation_s": 30}, "running"),
        ],
        ids=["waiting-at-provider", "generating"],
    )
    def test_cancels_at_the_provider(
        self,
        client: TestClient,
        emulator: EmulatorServer,
        configure: Any,
        settings: dict[str, float],
        remote_state: str,
    ) -> None:
        configure(model="fal-ai/ltx-video", **settings)
        job_id = client.post(
            "/v1/jobs", json={"model": "fal-ai/ltx-video", "input": {"prompt": "stop me"}}
        ).json()["id"]
        wait_job(
            client,
            job_id,
            until=lambda j: (j["provider"]["status"] or {}).get("state") == remote_state,
        )
        response = client.post(f"/v1/jobs/{job_id}/cancel")
        assert response.status_code == 200
        assert response.json()["status"] == "canceled"
        request_id = client.get(f"/v1/jobs/{job_id}").json()["provider"]["request_id"]

        def canceled_at_provider() -> bool | None:
            job = emulator.ctx.store.get(request_id)
            return True if job is not None and job.canceled_at is not None else None

        wait_for(canceled_at_provider, 30, "the emulator to see the cancel")
        assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "canceled"

    def test_finished_job_cannot_be_canceled(self, client: TestClient) -> None:
        job_id = client.post(
            "/v1/jobs", json={"model": "fal-ai/flux/schnell", "input": {"prompt": "done"}}
        ).json()["id"]
        wait_job(client, job_id)
        response = client.post(f"/v1/jobs/{job_id}/cancel")
        assert response.status_code == 409
        assert "already succeeded" in response.json()["detail"]


class TestHostedCache:
    def test_a_finished_hosted_job_serves_the_next_identical_request(
        self, client: TestClient, emulator: EmulatorServer
    ) -> None:
        body = {"model": "fal-ai/flux/schnell", "input": {"prompt": "cache me, provider"}}
        first = wait_job(client, client.post("/v1/jobs", json=body).json()["id"])
        assert first["status"] == "succeeded", first["error"]
        again = client.post("/v1/jobs", json=body)
        assert again.status_code == 201
        hit = again.json()
        assert (hit["status"], hit["cache_hit"]) == ("succeeded", True)
        assert hit["result"] == first["result"]
        assert submissions(emulator) == {"fal-ai/flux/schnell": 1}


class TestHostedCost:
    def test_priced_at_creation_then_on_the_stored_output(self, client: TestClient) -> None:
        body = {"model": "veo-3.1", "input": {"prompt": "a costly dawn", "duration": 4}}
        created = client.post("/v1/jobs", json=body).json()
        queued = client.get(f"/v1/jobs/{created['id']}").json()["cost"]
        assert queued == {
            "estimated_usd": 1.6,
            "actual_usd": None,
            "basis": "estimate: 4 s × $0.40/s at 720p",
        }
        job = wait_job(client, created["id"])
        assert job["status"] == "succeeded", job["error"]
        seconds = job["result"]["video"]["duration"]
        assert seconds == pytest.approx(4, abs=0.3)
        assert job["cost"]["estimated_usd"] == 1.6
        assert job["cost"]["actual_usd"] == pytest.approx(0.40 * round(seconds, 2))
        assert job["cost"]["basis"].endswith(" s × $0.40/s at 720p")

    def test_an_image_by_its_megapixels_and_its_cache_hit_for_nothing(
        self, client: TestClient
    ) -> None:
        size = {"width": 320, "height": 240}
        body = {
            "model": "fal-ai/flux/schnell",
            "input": {"prompt": "a cheap one", "resolution": size},
        }
        job = wait_job(client, client.post("/v1/jobs", json=body).json()["id"])
        assert job["status"] == "succeeded", job["error"]
        assert job["cost"] == {
            "estimated_usd": 0.003,
            "actual_usd": 0.003,
            "basis": "1 image of 320×240 = 1 MP (rounded up) × $0.003/MP",
        }
        hit = client.get(client.post("/v1/jobs", json=body).json()["urls"]["get"]).json()
        assert hit["cache_hit"]
        assert hit["cost"]["actual_usd"] == 0
