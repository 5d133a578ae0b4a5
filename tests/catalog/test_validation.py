from __future__ import annotations

from typing import Any

import pytest

from workers.catalog.models import ModelSpec
from workers.catalog.registry import get_model
from workers.catalog.validation import normalize_input
from workers.errors import InvalidInput

VIDEO = get_model("local/video")
IMAGE = get_model("local/image")


def errors_of(model_id: str, raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(InvalidInput) as info:
        normalize_input(get_model(model_id), raw)
    return {str(e.loc[-1]): e.msg for e in info.value.errors}


class TestNormalizeInput:
    def test_fills_defaults_and_collapses_whitespace(self) -> None:
        assert normalize_input(VIDEO, {"prompt": "  a  red\nfox  "}) == {
            "prompt": "a red fox",
            "duration": 3.0,
            "width": 854,
            "height": 480,
            "aspect_ratio": "16:9",
            "resolution": "480p",
        }

    def test_preset_and_explicit_size_normalise_alike(self) -> None:
        preset = normalize_input(VIDEO, {"prompt": "x", "resolution": "720p"})
        explicit = normalize_input(
            VIDEO, {"prompt": "x", "resolution": {"width": 1280, "height": 720}}
        )
        assert preset == explicit

    def test_aspect_ratio_rotates_preset(self) -> None:
        canonical = normalize_input(
            VIDEO, {"prompt": "x", "resolution": "1080p", "aspect_ratio": "9:16"}
        )
        assert (canonical["width"], canonical["height"]) == (1080, 1920)

    def test_image_has_no_duration(self) -> None:
        assert "duration" not in normalize_input(IMAGE, {"prompt": "x"})
        assert errors_of("local/image", {"prompt": "x", "duration": 3}) == {
            "duration": "local/image does not take a duration"
        }

    @pytest.mark.parametrize(
        ("raw", "field", "fragment"),
        [
            ({}, "prompt", "is required"),
            ({"prompt": 5}, "prompt", "must be a string"),
            ({"prompt": "   "}, "prompt", "must not be empty"),
            ({"prompt": "x", "duration": 11}, "duration", "between 1 and 10"),
            ({"prompt": "x", "duration": "3"}, "duration", "must be a number"),
            ({"prompt": "x", "duration": True}, "duration", "must be a number"),
            ({"prompt": "x", "resolution": "4k"}, "resolution", "allowed: 480p, 720p, 1080p"),
            ({"prompt": "x", "resolution": {"width": 9999, "height": 5}}, "resolution", "64–1920"),
            ({"prompt": "x", "resolution": {"width": 641, "height": 480}}, "resolution", "even"),
            ({"prompt": "x", "resolution": [1, 2]}, "resolution", "must be a preset"),
            ({"prompt": "x", "aspect_ratio": "2:1"}, "aspect_ratio", "allowed: 16:9"),
            ({"prompt": "x", "seed": -1}, "seed", "integer from 0"),
            ({"prompt": "x", "colour": "red"}, "colour", "is not an input"),
        ],
    )
    def test_rejects_with_field_and_allowed_values(
        self, raw: dict[str, Any], field: str, fragment: str
    ) -> None:
        assert fragment in errors_of("local/video", raw)[field]

    def test_fixed_durations_listed(self) -> None:
        message = errors_of(
            "fal-ai/kling-video/v1/standard/text-to-video", {"prompt": "x", "duration": 7}
        )
        assert message["duration"].endswith("allowed: 5, 10")

    def test_resolution_offered_only_at_some_durations(self) -> None:
        assert (
            normalize_input(get_model("veo-3.1"), {"prompt": "x", "resolution": "1080p"})[
                "duration"
            ]
            == 8
        )
        message = errors_of("veo-3.1", {"prompt": "x", "resolution": "1080p", "duration": 4})
        assert message["duration"].startswith("veo-3.1 offers 1080p only at 8 s")
        assert (
            normalize_input(
                get_model("veo-3.1"), {"prompt": "x", "resolution": "720p", "duration": 4}
            )["duration"]
            == 4
        )


class TestTutorialInputs:
    """The latency tutorial's calls, exactly as written, validate."""

    @pytest.mark.parametrize(
        ("model", "raw", "canonical_id"),
        [
            ("fal-ai/ltx-video", {"prompt": "...", "duration": 3}, "fal-ai/ltx-video"),
            ("fal-ai/hunyuan-video", {"prompt": "...", "duration": 5}, "fal-ai/hunyuan-video"),
            (
                "fal-ai/kling-video/v1/standard/text-to-video",
                {"prompt": "..."},
                "fal-ai/kling-video/v1/standard/text-to-video",
            ),
            ("fal-ai/minimax/video-01", {"prompt": "..."}, "fal-ai/minimax/video-01"),
            ("flux-schnell", {"prompt": "a fox, first frame of video"}, "fal-ai/flux/schnell"),
        ],
    )
    def test_validates(self, model: str, raw: dict[str, Any], canonical_id: str) -> None:
        spec = get_model(model)
        assert spec.id == canonical_id
        canonical = normalize_input(spec, raw)
        assert canonical["prompt"] == raw["prompt"]
        if "duration" in raw:
            assert canonical["duration"] == raw["duration"]


class TestVocabulary:
    def test_every_field_of_a_model_that_takes_them(self) -> None:
        canonical = normalize_input(
            VIDEO,
            {"prompt": "x", "duration": 2, "resolution": "720p", "fps": 12, "seed": 3},
        )
        assert (canonical["fps"], canonical["seed"], canonical["width"]) == (12, 3, 1280)
        veo = normalize_input(get_model("veo-3.1"), {"prompt": "x", "negative_prompt": " fog  "})
        assert veo["negative_prompt"] == "fog"

    def test_one_image_is_the_default_and_not_spelled_out(self) -> None:
        assert "num_images" not in normalize_input(IMAGE, {"prompt": "x", "num_images": 1})
        assert normalize_input(IMAGE, {"prompt": "x", "num_images": 3})["num_images"] == 3

    def test_an_aspect_ratio_alone_is_kept_with_its_default(self) -> None:
        flux = get_model("black-forest-labs/flux-schnell")
        assert normalize_input(flux, {"prompt": "x"})["aspect_ratio"] == "1:1"
        assert (
            normalize_input(flux, {"prompt": "x", "aspect_ratio": "4:3"})["aspect_ratio"] == "4:3"
        )

    def test_a_square_default_takes_the_asked_shape(self) -> None:
        canonical = normalize_input(IMAGE, {"prompt": "x", "aspect_ratio": "16:9"})
        assert (canonical["width"], canonical["height"]) == (1024, 576)

    @pytest.mark.parametrize(
        ("model", "raw", "field", "message"),
        [
            (
                "fal-ai/ltx-video",
                {"resolution": "720p"},
                "resolution",
                "fal-ai/ltx-video does not take a resolution",
            ),
            (
                "fal-ai/ltx-video",
                {"duration": 6},
                "duration",
                "must be between 1 and 5 seconds for fal-ai/ltx-video, got 6",
            ),
            (
                "fal-ai/hunyuan-video",
                {"duration": 8},
                "duration",
                "must be between 1 and 5.375 seconds for fal-ai/hunyuan-video, got 8",
            ),
            (
                "fal-ai/kling-video/v1/standard/text-to-video",
                {"seed": 1},
                "seed",
                "fal-ai/kling-video/v1/standard/text-to-video does not take a seed",
            ),
            (
                "fal-ai/minimax/video-01",
                {"negative_prompt": "x"},
                "negative_prompt",
                "fal-ai/minimax/video-01 does not take a negative_prompt",
            ),
            (
                "flux-schnell",
                {"num_images": 5},
                "num_images",
                "must be an integer from 1 to 4, got 5",
            ),
            (
                "flux-schnell",
                {"duration": 3},
                "duration",
                "fal-ai/flux/schnell does not take a duration",
            ),
            (
                "sora-2",
                {"duration": 5},
                "duration",
                "5 s is not offered by sora-2; allowed: 4, 8, 12",
            ),
            ("sora-2", {"fps": 24}, "fps", "sora-2 does not take an fps"),
            ("local/video", {"fps": 90}, "fps", "must be an integer from 1 to 30, got 90"),
            (
                "local/video",
                {"image_url": "https://x/a.png"},
                "image_url",
                "local/video does not take an image_url",
            ),
            ("veo-3.1", {"negative_prompt": 3}, "negative_prompt", "must be a string, got int"),
        ],
    )
    def test_a_value_the_model_cannot_honour_names_the_field(
        self, model: str, raw: dict[str, Any], field: str, message: str
    ) -> None:
        assert errors_of(model, {"prompt": "x", **raw}) == {field: message}


def image_model() -> ModelSpec:
    return ModelSpec.model_validate(
        {
            "id": "acme/upscale",
            "provider": "fal",
            "kind": "image",
            "task": "upscale",
            "tier": "fast",
            "typical_latency_s": 5,
            "description": "an upscaler",
            "inputs": {"image_url": {}},
            "price": {"unit": "image", "usd": 0.01, "source": "test"},
        }
    )


class TestImageUrl:
    def test_an_https_url_is_taken(self) -> None:
        canonical = normalize_input(image_model(), {"image_url": "https://cdn.example/a.png"})
        assert canonical == {"image_url": "https://cdn.example/a.png"}

    @pytest.mark.parametrize(
        ("value", "message"),
        [
            (None, "is required: the https URL of the image to start from"),
            ("http://cdn.example/a.png", "must be an https URL of an image"),
            ("https:///a.png", "must be an https URL of an image"),
            (7, "must be an https URL of an image"),
            ("https://x/" + "a" * 2048, "is 2058 characters; at most 2048"),
        ],
    )
    def test_anything_else_is_refused(self, value: Any, message: str) -> None:
        with pytest.raises(InvalidInput) as caught:
            normalize_input(image_model(), {"image_url": value} if value is not None else {})
        assert [(e.loc, e.msg) for e in caught.value.errors] == [(("input", "image_url"), message)]

    def test_a_model_without_a_prompt_refuses_one(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            normalize_input(image_model(), {"image_url": "https://x/a.png", "prompt": "p"})
        assert caught.value.errors[0].msg == "acme/upscale does not take a prompt"


class TestProviderInput:
    def test_passes_a_providers_own_fields(self) -> None:
        raw = {"prompt": "x", "provider_input": {"cfg_scale": 0.7}}
        kling = get_model("fal-ai/kling-video/v1/standard/text-to-video")
        assert normalize_input(kling, raw)["provider_input"] == {"cfg_scale": 0.7}

    @pytest.mark.parametrize(
        ("model", "provider_input", "loc", "message"),
        [
            (
                "fal-ai/kling-video/v1/standard/text-to-video",
                {"duration": "10"},
                ("input", "provider_input", "duration"),
                "is set from our own inputs for fal-ai/kling-video/v1/standard/text-to-video; "
                "use those instead",
            ),
            (
                "flux-schnell",
                {"output_format": "jpeg"},
                ("input", "provider_input", "output_format"),
                "is set from our own inputs for fal-ai/flux/schnell; use those instead",
            ),
            (
                "veo-3.1",
                {"parameters": {"durationSeconds": 6}},
                ("input", "provider_input", "parameters.durationSeconds"),
                "is set from our own inputs for veo-3.1; use those instead",
            ),
            (
                "veo-3.1",
                {"instances": []},
                ("input", "provider_input", "instances"),
                "is set from our own inputs for veo-3.1; use those instead",
            ),
            (
                "local/video",
                {"a": 1},
                ("input", "provider_input"),
                "local/video runs here: it takes no provider_input",
            ),
            (
                "sora-2",
                ["a"],
                ("input", "provider_input"),
                "must be an object of the provider's own fields",
            ),
            (
                "sora-2",
                {"a": "x" * 5000},
                ("input", "provider_input"),
                "is 5008 bytes of JSON; at most 4096",
            ),
        ],
    )
    def test_refuses_what_the_mapping_sets_and_what_is_too_big(
        self, model: str, provider_input: Any, loc: tuple[str, ...], message: str
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            normalize_input(get_model(model), {"prompt": "x", "provider_input": provider_input})
        assert [(e.loc, e.msg) for e in caught.value.errors] == [(loc, message)]


class TestTheSeedsModelsLimits:
    """Each new model's 422s name the field and what that model allows."""

    @pytest.mark.parametrize(
        ("model", "raw", "field", "message"),
        [
            (
                "kling-2.6",
                {"prompt": "x", "duration": 7},
                "duration",
                "7 s is not offered by fal-ai/kling-video/v2.6/pro/text-to-video; allowed: 5, 10",
            ),
            (
                "kling-2.6-i2v",
                {"prompt": "x"},
                "image_url",
                "is required: the https URL of the image to start from",
            ),
            (
                "fal-ai/veo3.1",
                {"prompt": "x", "aspect_ratio": "1:1"},
                "aspect_ratio",
                None,
            ),
            ("ideogram", {"prompt": "x", "num_images": 2}, "num_images", None),
            ("esrgan", {"image_url": "https://x/a.png", "prompt": "sharper"}, "prompt", None),
            ("rife", {}, "video_url", "is required: the https URL of the video to start from"),
            (
                "rife",
                {"video_url": "http://x/a.mp4"},
                "video_url",
                "must be an https URL of a video",
            ),
            ("remove-background", {"video_url": "https://x/a.mp4"}, "video_url", None),
        ],
    )
    def test_refused_with_the_field_named(
        self, model: str, raw: dict[str, Any], field: str, message: str | None
    ) -> None:
        with pytest.raises(InvalidInput) as caught:
            normalize_input(get_model(model), raw)
        found = {e.loc: e.msg for e in caught.value.errors}
        assert ("input", field) in found, found
        if message is not None:
            assert found[("input", field)] == message
