"""The emulator checks every field against the model's wire schema, refuses with each
provider's own error shape, and answers with the model's real output shape."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from emulator.schemas import check, media_of, schema_for
from emulator.testing import EmulatorServer
from workers.media.probe import probe


def wait_done(fetch: Any, done: Any, timeout_s: float = 10) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        body = fetch()
        if done(body):
            return body
        time.sleep(0.05)
    raise AssertionError("never finished")


class TestRefusals:
    def test_fal_answers_fastapis_422_for_each_field(
        self, emulator: EmulatorServer, api_key: str
    ) -> None:
        response = httpx.post(
            f"{emulator.url}/fal-ai/kling-video/v1/standard/text-to-video",
            json={"prompt": "x", "duration": 5, "seed": 1},
            headers={"Authorization": f"Key {api_key}"},
        )
        assert response.status_code == 422
        assert response.json() == {
            "detail": [
                {
                    "loc": ["body", "seed"],
                    "msg": "Extra inputs are not permitted",
                    "type": "extra_forbidden",
                },
                {
                    "loc": ["body", "duration"],
                    "msg": "Input should be a valid string",
                    "type": "type_error",
                },
            ]
        }
        assert emulator.ctx.store.submissions.total() == 0

    def test_replicate_answers_input_validation_failed(
        self, emulator: EmulatorServer, api_key: str
    ) -> None:
        response = httpx.post(
            f"{emulator.url}/v1/models/black-forest-labs/flux-schnell/predictions",
            json={"input": {"prompt": "x", "num_outputs": 9}},
            headers={"Authorization": f"Bearer {api_key}"},
        )
        assert response.status_code == 422
        body = response.json()
        assert (body["title"], body["status"]) == ("Input validation failed", 422)
        assert body["invalid_fields"] == [
            {"type": "range", "field": "input.num_outputs", "description": "Input should be <= 4"}
        ]
        assert body["detail"] == "- input.num_outputs: Input should be <= 4"

    def test_openai_answers_unknown_parameter(self, emulator: EmulatorServer, api_key: str) -> None:
        response = httpx.post(
            f"{emulator.url}/v1/videos",
            files={"prompt": (None, "x"), "model": (None, "sora-2"), "duration": (None, "4")},
            headers={"Authorization": f"Bearer {api_key}"},
        )
        assert response.status_code == 400
        assert response.json()["error"] == {
            "message": "Unknown parameter: 'duration'.",
            "type": "invalid_request_error",
            "param": "duration",
            "code": "unknown_parameter",
        }

    def test_gemini_answers_invalid_argument_naming_the_field(
        self, emulator: EmulatorServer, api_key: str
    ) -> None:
        response = httpx.post(
            f"{emulator.url}/v1beta/models/veo-3.1-generate-preview:predictLongRunning",
            json={
                "instances": [{"prompt": "x", "seed": 3}],
                "parameters": {"durationSeconds": "4"},
            },
            headers={"x-goog-api-key": api_key},
        )
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["status"] == "INVALID_ARGUMENT"
        violations = error["details"][0]["fieldViolations"]
        assert [v["field"] for v in violations] == ["instances[0]", "parameters.durationSeconds"]
        assert violations[0]["description"] == (
            "Invalid JSON payload received. Unknown name \"seed\" at 'instances[0]': "
            "Cannot find field."
        )

    def test_a_model_without_a_schema_is_served_unchecked(
        self, emulator: EmulatorServer, api_key: str
    ) -> None:
        response = httpx.post(
            f"{emulator.url}/acme/new-model",
            json={"prompt": "x", "anything": [1, 2]},
            headers={"Authorization": f"Key {api_key}"},
        )
        assert response.status_code == 200


class TestOutputShape:
    def test_fal_images_come_as_many_as_asked(
        self, emulator: EmulatorServer, api_key: str, tmp_path: Any
    ) -> None:
        auth = {"Authorization": f"Key {api_key}"}
        submitted = httpx.post(
            f"{emulator.url}/fal-ai/flux/schnell",
            json={"prompt": "two lamps", "num_images": 2, "image_size": "portrait_16_9"},
            headers=auth,
        ).json()
        wait_done(
            lambda: httpx.get(submitted["status_url"], headers=auth).json(),
            lambda b: b["status"] == "COMPLETED",
        )
        result = httpx.get(submitted["response_url"], headers=auth).json()
        assert [(i["width"], i["height"]) for i in result["images"]] == [(576, 1024)] * 2
        first, second = (httpx.get(i["url"]).content for i in result["images"])
        assert first != second  # each image is its own
        (tmp_path / "a.png").write_bytes(first)
        assert (probe(tmp_path / "a.png").width, probe(tmp_path / "a.png").height) == (576, 1024)

    @pytest.mark.parametrize(
        ("provider", "model", "body", "expected"),
        [
            (
                "fal",
                "fal-ai/hunyuan-video",
                {"prompt": "x", "num_frames": "85"},
                ("video", 1280, 720, 3.542, 1),
            ),
            (
                "fal",
                "fal-ai/hunyuan-video",
                {"prompt": "x", "aspect_ratio": "9:16", "resolution": "480p"},
                ("video", 480, 854, 5.375, 1),
            ),
            ("fal", "fal-ai/ltx-video", {"prompt": "x"}, ("video", 768, 512, 5.0, 1)),
            (
                "fal",
                "fal-ai/kling-video/v1/standard/text-to-video",
                {"prompt": "x", "duration": "10", "aspect_ratio": "1:1"},
                ("video", 720, 720, 10.0, 1),
            ),
            (
                "replicate",
                "black-forest-labs/flux-schnell",
                {"prompt": "x", "aspect_ratio": "16:9", "num_outputs": 3},
                ("image", 1344, 768, 0.0, 3),
            ),
            (
                "openai",
                "sora-2",
                {"prompt": "x", "seconds": "8", "size": "1280x720"},
                ("video", 1280, 720, 8.0, 1),
            ),
            (
                "gemini",
                "veo-3.1-generate-preview",
                {"instances": [{"prompt": "x"}], "parameters": {"resolution": "1080p"}},
                ("video", 1920, 1080, 8.0, 1),
            ),
        ],
    )
    def test_what_each_model_makes(
        self, provider: str, model: str, body: dict[str, Any], expected: tuple[Any, ...]
    ) -> None:
        schema = schema_for(provider, model)
        assert schema is not None
        assert check(schema, body) == []
        media = media_of(schema, body)
        assert (media.kind, media.width, media.height, media.duration_s, media.count) == expected
