"""`GET /v1/models` filters and shows each model's names and inputs; aliases work wherever
a model id is accepted, and a job stores the canonical id."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient


def models(client: TestClient, **filters: str) -> dict[str, dict[str, Any]]:
    response = client.get("/v1/models", params=filters)
    assert response.status_code == 200, response.text
    return {m["id"]: m for m in response.json()}


class TestListModels:
    def test_each_model_shows_its_aliases_task_and_accepted_inputs(
        self, client: TestClient
    ) -> None:
        flux = models(client)["fal-ai/flux/schnell"]
        assert flux["aliases"] == ["flux-schnell"]
        assert flux["task"] == "text-to-image"
        assert flux["accepted_inputs"] == [
            "prompt",
            "resolution",
            "seed",
            "num_images",
            "provider_input",
        ]
        assert flux["inputs"]["max_num_images"] == 4
        local = models(client)["local/video"]
        assert "provider_input" not in local["accepted_inputs"]
        assert local["inputs"]["duration_range"] == [1, 10]
        ltx = models(client)["fal-ai/ltx-video"]
        assert (ltx["inputs"]["duration_range"], ltx["inputs"]["duration_trimmed"]) == (
            [1, 5],
            True,
        )

    @pytest.mark.parametrize(
        ("filters", "expected"),
        [
            (
                {"kind": "image", "provider": "fal"},
                {
                    "fal-ai/flux/schnell",
                    "fal-ai/flux/dev",
                    "fal-ai/flux/dev/image-to-image",
                    "fal-ai/fast-sdxl",
                    "fal-ai/stable-diffusion-v3-medium",
                    "fal-ai/ideogram/v2",
                    "fal-ai/esrgan",
                    "fal-ai/imageutils/rembg",
                },
            ),
            (
                {"task": "text-to-image", "tier": "fast"},
                {
                    "local/image",
                    "fal-ai/flux/schnell",
                    "fal-ai/fast-sdxl",
                    "black-forest-labs/flux-schnell",
                },
            ),
            ({"provider": "gemini"}, {"veo-3.1", "veo-3.1-fast"}),
            ({"tier": "quality", "provider": "openai"}, {"sora-2-pro"}),
            ({"task": "upscale"}, {"fal-ai/esrgan"}),
            ({"task": "interpolate"}, {"fal-ai/rife/video"}),
        ],
    )
    def test_filters(self, client: TestClient, filters: dict[str, str], expected: set[str]) -> None:
        assert set(models(client, **filters)) == expected

    def test_an_unknown_filter_value_is_a_422_naming_it(self, client: TestClient) -> None:
        response = client.get("/v1/models", params={"task": "text-to-song"})
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["query", "task"]


class TestAliases:
    def test_a_job_on_an_alias_stores_the_canonical_id(self, client: TestClient) -> None:
        response = client.post(
            "/v1/jobs", json={"model": "flux-schnell", "input": {"prompt": "a lamp"}}
        )
        assert response.status_code == 202, response.text
        job = client.get(f"/v1/jobs/{response.json()['id']}").json()
        assert job["model"] == "fal-ai/flux/schnell"

    def test_an_alias_and_its_id_are_the_same_request(self, client: TestClient) -> None:
        body = {"input": {"prompt": "a lamp"}, "idempotency_key": "lamp-1"}
        first = client.post("/v1/jobs", json={"model": "flux-schnell", **body})
        again = client.post("/v1/jobs", json={"model": "fal-ai/flux/schnell", **body})
        assert (first.status_code, again.status_code) == (202, 200)
        assert again.json()["id"] == first.json()["id"]


class TestRefusals:
    @pytest.mark.parametrize(
        ("model", "raw", "field", "message"),
        [
            (
                "fal-ai/hunyuan-video",
                {"duration": 9},
                "duration",
                "must be between 1 and 5.375 seconds for fal-ai/hunyuan-video, got 9",
            ),
            ("veo-3.1", {"seed": 4}, "seed", "veo-3.1 does not take a seed"),
            (
                "flux-schnell",
                {"provider_input": {"num_images": 2}},
                "provider_input",
                "is set from our own inputs for fal-ai/flux/schnell; use those instead",
            ),
        ],
    )
    def test_a_422_names_the_field_and_what_the_model_allows(
        self, client: TestClient, model: str, raw: dict[str, Any], field: str, message: str
    ) -> None:
        response = client.post("/v1/jobs", json={"model": model, "input": {"prompt": "x", **raw}})
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"][:3] == ["body", "input", field]
        assert error["msg"] == message
