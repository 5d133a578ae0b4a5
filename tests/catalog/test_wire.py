"""Each model's mapping, from our vocabulary to the fields its provider documents."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.schemas import check, schema_for
from workers.catalog.registry import all_models, get_model
from workers.catalog.validation import normalize_input
from workers.catalog.wire import put, to_wire
from workers.provider.registry import HOSTED


def wire(model: str, raw: dict[str, Any]) -> dict[str, Any]:
    spec = get_model(model)
    return to_wire(spec, normalize_input(spec, raw))


IMAGE = "https://example.com/a.png"
VIDEO = "https://example.com/a.mp4"

# (model, what a caller writes, what the provider receives), each as its schema documents.
DOCUMENTED = [
    # LTX on fal takes no length: it makes ~5 s, which the job cuts to the asked 3 s.
    (
        "fal-ai/ltx-video",
        {"prompt": "a fox", "duration": 3, "negative_prompt": "blur", "seed": 7},
        {"prompt": "a fox", "negative_prompt": "blur", "seed": 7},
    ),
    # HunyuanVideo: num_frames is the string "85" or "129" (24 fps): the fewest covering 5 s.
    (
        "fal-ai/hunyuan-video",
        {"prompt": "a fox", "duration": 5},
        {"prompt": "a fox", "num_frames": "129", "resolution": "720p", "aspect_ratio": "16:9"},
    ),
    (
        "fal-ai/hunyuan-video",
        {"prompt": "a fox", "duration": 3, "resolution": "480p", "aspect_ratio": "9:16"},
        {"prompt": "a fox", "num_frames": "85", "resolution": "480p", "aspect_ratio": "9:16"},
    ),
    # Kling: duration is the string "5" or "10"; no seed.
    (
        "fal-ai/kling-video/v1/standard/text-to-video",
        {"prompt": "a fox"},
        {"prompt": "a fox", "duration": "5", "aspect_ratio": "16:9"},
    ),
    (
        "fal-ai/kling-video/v1/standard/text-to-video",
        {"prompt": "a fox", "duration": 10, "aspect_ratio": "1:1", "negative_prompt": "rain"},
        {"prompt": "a fox", "negative_prompt": "rain", "duration": "10", "aspect_ratio": "1:1"},
    ),
    ("fal-ai/minimax/video-01", {"prompt": "a fox"}, {"prompt": "a fox"}),
    # FLUX schnell on fal: image_size as {width, height}, png, num_images when more than one.
    (
        "flux-schnell",
        {"prompt": "a lamp", "num_images": 2, "seed": 1},
        {
            "prompt": "a lamp",
            "image_size": {"width": 1024, "height": 768},
            "seed": 1,
            "num_images": 2,
            "output_format": "png",
        },
    ),
    # OpenAI: seconds as a string, size as "WxH" (the adapter adds `model`).
    (
        "sora-2",
        {"prompt": "a boat", "duration": 8, "aspect_ratio": "9:16"},
        {"prompt": "a boat", "seconds": "8", "size": "720x1280"},
    ),
    (
        "sora-2-pro",
        {"prompt": "a boat"},
        {"prompt": "a boat", "seconds": "4", "size": "1280x720"},
    ),
    # Veo on the Gemini API: instances and parameters, durationSeconds an integer.
    (
        "veo-3.1",
        {"prompt": "a city", "duration": 4, "negative_prompt": "fog"},
        {
            "instances": [{"prompt": "a city"}],
            "parameters": {
                "negativePrompt": "fog",
                "durationSeconds": 4,
                "resolution": "720p",
                "aspectRatio": "16:9",
            },
        },
    ),
    ("minimax/video-01", {"prompt": "waves", "duration": 4}, {"prompt": "waves"}),
    # Replicate's FLUX schnell: aspect_ratio, and num_outputs for the number of images.
    (
        "black-forest-labs/flux-schnell",
        {"prompt": "a teapot", "num_images": 3, "aspect_ratio": "16:9"},
        {"prompt": "a teapot", "aspect_ratio": "16:9", "num_outputs": 3},
    ),
    # Veo 3.1 Fast on the Gemini API: the same request as Veo 3.1.
    (
        "veo-3.1-fast",
        {"prompt": "a city", "duration": 6, "aspect_ratio": "9:16"},
        {
            "instances": [{"prompt": "a city"}],
            "parameters": {"durationSeconds": 6, "resolution": "720p", "aspectRatio": "9:16"},
        },
    ),
    # Kling 2.6 Pro on fal: duration the string "5" or "10", as Kling 1.0.
    (
        "kling-2.6",
        {"prompt": "a fox", "duration": 10, "aspect_ratio": "9:16", "negative_prompt": "rain"},
        {"prompt": "a fox", "negative_prompt": "rain", "duration": "10", "aspect_ratio": "9:16"},
    ),
    # Kling 2.6 image-to-video: the image goes in `start_image_url`.
    (
        "kling-2.6-i2v",
        {"prompt": "a fox runs", "image_url": IMAGE},
        {"prompt": "a fox runs", "duration": "5", "start_image_url": IMAGE},
    ),
    (
        "fal-ai/kling-video/v1/standard/image-to-video",
        {"prompt": "a fox runs", "image_url": IMAGE, "duration": 10},
        {"prompt": "a fox runs", "duration": "10", "image_url": IMAGE},
    ),
    # Veo 3.1 on fal: duration "4s"/"6s"/"8s", resolution and aspect_ratio as named.
    (
        "fal-ai/veo3.1",
        {"prompt": "a city", "duration": 4, "resolution": "1080p", "seed": 3},
        {
            "prompt": "a city",
            "duration": "4s",
            "resolution": "1080p",
            "aspect_ratio": "16:9",
            "seed": 3,
        },
    ),
    (
        "veo-3.1-fast-fal",
        {"prompt": "a city", "aspect_ratio": "9:16", "negative_prompt": "fog"},
        {
            "prompt": "a city",
            "negative_prompt": "fog",
            "duration": "8s",
            "resolution": "720p",
            "aspect_ratio": "9:16",
        },
    ),
    # LTX image-to-video: no length (cut by us), the image as `image_url`.
    (
        "ltx-video-i2v",
        {"prompt": "waves", "duration": 3, "image_url": IMAGE, "seed": 2},
        {"prompt": "waves", "seed": 2, "image_url": IMAGE},
    ),
    (
        "fal-ai/minimax/video-01/image-to-video",
        {"prompt": "waves", "image_url": IMAGE},
        {"prompt": "waves", "image_url": IMAGE},
    ),
    # FLUX dev, Fast SDXL and SD3: image_size as {width, height}, num_images.
    (
        "flux-dev",
        {"prompt": "a lamp", "num_images": 2},
        {"prompt": "a lamp", "image_size": {"width": 1024, "height": 768}, "num_images": 2},
    ),
    (
        "fast-sdxl",
        {
            "prompt": "a lamp",
            "negative_prompt": "blur",
            "resolution": {"width": 1280, "height": 720},
        },
        {
            "prompt": "a lamp",
            "negative_prompt": "blur",
            "image_size": {"width": 1280, "height": 720},
            "format": "png",
        },
    ),
    (
        "stable-diffusion-3",
        {"prompt": "a sign that says hello", "seed": 5},
        {
            "prompt": "a sign that says hello",
            "image_size": {"width": 1024, "height": 1024},
            "seed": 5,
        },
    ),
    # Ideogram: aspect_ratio by name, one image.
    (
        "ideogram",
        {"prompt": "a poster", "aspect_ratio": "16:10"},
        {"prompt": "a poster", "aspect_ratio": "16:10"},
    ),
    (
        "flux-dev-i2i",
        {"prompt": "as a painting", "image_url": IMAGE},
        {"prompt": "as a painting", "image_url": IMAGE},
    ),
    # The tools take an image (or a video) and no prompt.
    ("esrgan", {"image_url": IMAGE}, {"image_url": IMAGE, "output_format": "png"}),
    ("remove-background", {"image_url": IMAGE}, {"image_url": IMAGE}),
    ("rife", {"video_url": VIDEO}, {"video_url": VIDEO}),
]


class TestDocumentedPayloads:
    @pytest.mark.parametrize(
        ("model", "raw", "payload"),
        DOCUMENTED,
        ids=[f"{c[0]}-{i}" for i, c in enumerate(DOCUMENTED)],
    )
    def test_mapping_produces_the_documented_fields(
        self, model: str, raw: dict[str, Any], payload: dict[str, Any]
    ) -> None:
        assert wire(model, raw) == payload

    def test_every_hosted_model_is_covered(self) -> None:
        hosted = {spec.id for spec in all_models() if spec.provider in HOSTED}
        assert hosted <= {get_model(model).id for model, _, _ in DOCUMENTED}

    @pytest.mark.parametrize(
        "spec", [s for s in all_models() if s.provider in HOSTED], ids=lambda s: s.id
    )
    def test_the_emulator_accepts_every_field_the_mapping_sends(self, spec: Any) -> None:
        """The catalog's mapping and the emulator's schema were written apart, from the
        provider's documentation: with every input set, they must agree."""
        inputs = spec.inputs
        raw: dict[str, Any] = {"prompt": "everything at once"} if inputs.prompt else {}
        if inputs.image_url:
            raw["image_url"] = IMAGE
        if inputs.video_url:
            raw["video_url"] = VIDEO
        if inputs.negative_prompt:
            raw["negative_prompt"] = "blur"
        if inputs.duration:
            raw["duration"] = max(inputs.duration.choices or [inputs.duration.bounds()[1]])
        if inputs.aspect_ratio:
            raw["aspect_ratio"] = inputs.aspect_ratio.choices[-1]
        if inputs.seed:
            raw["seed"] = 42
        if inputs.num_images:
            raw["num_images"] = inputs.num_images.max
        payload = to_wire(spec, normalize_input(spec, raw))
        if spec.provider == "openai":
            payload["model"] = spec.provider_model
        schema = schema_for(spec.provider, spec.provider_model)
        assert schema is not None, f"the emulator has no schema for {spec.provider_model}"
        assert check(schema, payload) == []


class TestProviderInput:
    def test_is_merged_after_the_mapping(self) -> None:
        payload = wire(
            "veo-3.1",
            {"prompt": "x", "provider_input": {"parameters": {"personGeneration": "allow_adult"}}},
        )
        assert payload["parameters"]["personGeneration"] == "allow_adult"
        assert payload["parameters"]["durationSeconds"] == 8
        assert wire("fal-ai/minimax/video-01", {"prompt": "x", "provider_input": {"a": 1}}) == {
            "prompt": "x",
            "a": 1,
        }


class TestPut:
    def test_makes_objects_and_lists_on_the_way(self) -> None:
        payload: dict[str, Any] = {}
        put(payload, "instances.0.prompt", "p")
        put(payload, "instances.0.image.uri", "u")
        put(payload, "parameters.durationSeconds", 8)
        assert payload == {
            "instances": [{"prompt": "p", "image": {"uri": "u"}}],
            "parameters": {"durationSeconds": 8},
        }
