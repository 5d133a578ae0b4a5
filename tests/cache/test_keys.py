"""The cache key: one per meaning of a request."""

from __future__ import annotations

from typing import Any

import pytest

from workers.cache.keys import SHARED, owner_scope, read_scopes, request_key, write_scope
from workers.catalog.registry import get_model
from workers.catalog.validation import normalize_input


def key(model: str, raw: dict[str, Any]) -> str:
    return request_key(model, normalize_input(get_model(model), raw))


BASE = {"prompt": "a red fox in snow", "duration": 3, "resolution": "480p"}


class TestRequestKey:
    @pytest.mark.parametrize(
        "same",
        [
            {"prompt": "  a red   fox\nin snow ", "duration": 3, "resolution": "480p"},
            {"resolution": "480p", "duration": 3.0, "prompt": "a red fox in snow"},
            {
                "prompt": "a red fox in snow",
                "duration": 3,
                "resolution": {"width": 854, "height": 480},
            },
        ],
    )
    def test_equivalent_requests_share_a_key(self, same: dict[str, Any]) -> None:
        assert key("local/video", same) == key("local/video", BASE)

    def test_defaults_filled_in_match_explicit_defaults(self) -> None:
        spec = get_model("local/video")
        assert spec.inputs.duration is not None
        assert spec.inputs.duration.default is not None
        explicit = {"prompt": "x", "duration": spec.inputs.duration.default, "resolution": "480p"}
        assert normalize_input(spec, {"prompt": "x"})["width"] == 854  # the default is 480p
        assert key("local/video", {"prompt": "x"}) == key("local/video", explicit)

    @pytest.mark.parametrize(
        "other",
        [
            {**BASE, "prompt": "a red fox in rain"},
            {**BASE, "duration": 4},
            {**BASE, "resolution": "720p"},
            {**BASE, "seed": 7},
        ],
    )
    def test_requests_that_differ_do_not(self, other: dict[str, Any]) -> None:
        assert key("local/video", other) != key("local/video", BASE)

    def test_model_is_part_of_the_key(self) -> None:
        raw = {"prompt": "a lighthouse"}
        assert key("local/image", raw) != key("fal-ai/flux/schnell", raw)


class TestScopes:
    def test_a_caller_reads_shared_and_its_own(self) -> None:
        assert read_scopes("alice") == (SHARED, "owner:alice")

    def test_own_results_are_private_unless_shared(self) -> None:
        assert write_scope("alice", share=False) == owner_scope("alice")
        assert write_scope("alice", share=True) == SHARED
