from __future__ import annotations

from typing import Any

import pytest

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
