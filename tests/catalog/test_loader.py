"""The catalog as data: the shipped file, an operator's MODELS_FILE over it, and errors that
name the file, the entry and the field."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from workers.catalog import registry
from workers.catalog.loader import CatalogError, load
from workers.catalog.models import Task
from workers.errors import InvalidInput
from workers.settings import get_settings

NEW_MODEL: dict[str, Any] = {
    "id": "acme/kling-i2v",
    "aliases": ["kling-i2v"],
    "provider": "fal",
    "wire_id": "fal-ai/kling-video/v1/standard/image-to-video",
    "kind": "video",
    "task": "image-to-video",
    "tier": "quality",
    "typical_latency_s": 90,
    "description": "Kling 1.0 standard image-to-video, added by the operator.",
    "inputs": {
        "prompt": {"max_length": 2500},
        "image_url": {},
        "duration": {"choices": [5, 10], "default": 5, "to": "duration", "as": "string"},
    },
    "price": {"unit": "second", "usd": 0.045, "source": "fal model page", "checked": "2026-11-30"},
}


def write(tmp_path: Path, *entries: dict[str, Any]) -> Path:
    path = tmp_path / "models.yaml"
    path.write_text(yaml.safe_dump({"models": list(entries)}))
    return path


def problems(path: Path) -> str:
    with pytest.raises(CatalogError) as caught:
        load(path)
    return str(caught.value)


class TestShipped:
    def test_keeps_every_model_the_system_had(self) -> None:
        ids = {spec.id for spec in load()}
        assert {
            "local/video",
            "local/image",
            "fal-ai/ltx-video",
            "fal-ai/hunyuan-video",
            "fal-ai/kling-video/v1/standard/text-to-video",
            "fal-ai/minimax/video-01",
            "fal-ai/flux/schnell",
            "sora-2",
            "sora-2-pro",
            "minimax/video-01",
            "black-forest-labs/flux-schnell",
            "veo-3.1",
        } <= ids

    def test_every_model_has_a_task_tier_and_latency(self) -> None:
        for spec in load():
            assert spec.task in Task
            assert spec.typical_latency_s > 0
            assert spec.description


class TestModelsFile:
    def test_adds_a_model(self, tmp_path: Path) -> None:
        models = {spec.id: spec for spec in load(write(tmp_path, NEW_MODEL))}
        added = models["acme/kling-i2v"]
        assert (added.provider_model, added.task) == (NEW_MODEL["wire_id"], Task.IMAGE_TO_VIDEO)
        assert "fal-ai/ltx-video" in models  # the shipped ones stay

    def test_overrides_the_fields_it_names(self, tmp_path: Path) -> None:
        path = write(tmp_path, {"id": "fal-ai/ltx-video", "typical_latency_s": 12})
        ltx = next(spec for spec in load(path) if spec.id == "fal-ai/ltx-video")
        assert ltx.typical_latency_s == 12
        assert ltx.aliases == ("ltx-video",)  # fields it does not name are the shipped ones

    def test_errors_name_the_file_entry_and_field(self, tmp_path: Path) -> None:
        bad = {
            **NEW_MODEL,
            "tier": "quick",
            "inputs": {**NEW_MODEL["inputs"], "duration": {"choices": [5, "ten"]}, "colour": {}},
        }
        message = problems(write(tmp_path, bad, {"id": "fal-ai/ltx-video", "typical_latency_s": 0}))
        lines = message.splitlines()
        assert lines[0] == (
            f"{tmp_path / 'models.yaml'}: model 'fal-ai/ltx-video': "
            "typical_latency_s: Input should be greater than 0"
        )
        assert lines[1].startswith(f"{tmp_path / 'models.yaml'}: model 'acme/kling-i2v': ")
        for where in ("tier: ", "inputs.duration.choices.1: ", "inputs.colour: Extra inputs"):
            assert where in lines[1]

    @pytest.mark.parametrize(
        ("change", "fragment"),
        [
            ({"task": "text-to-image"}, "task text-to-image makes image, not video"),
            ({"inputs": {"prompt": {}}}, "image-to-video models take an image"),
            ({"price": {"unit": "second", "usd": 1}}, "price.source: Field required"),
            (
                {"inputs": {**NEW_MODEL["inputs"], "duration": {"choices": [5], "default": 7}}},
                "default 7 is not an allowed duration",
            ),
            (
                {"inputs": {**NEW_MODEL["inputs"], "resolution": {"default": "720p"}}},
                "give presets, custom or both",
            ),
        ],
    )
    def test_refuses_an_incoherent_entry(
        self, tmp_path: Path, change: dict[str, Any], fragment: str
    ) -> None:
        message = problems(write(tmp_path, {**NEW_MODEL, **change}))
        assert "model 'acme/kling-i2v'" in message
        assert fragment in message

    def test_a_name_belongs_to_one_model(self, tmp_path: Path) -> None:
        taken = {**NEW_MODEL, "aliases": ["flux-schnell"]}
        assert problems(write(tmp_path, taken)) == (
            "model 'acme/kling-i2v': the name 'flux-schnell' already belongs to "
            "'fal-ai/flux/schnell'"
        )

    def test_unreadable_or_shapeless_files_are_named(self, tmp_path: Path) -> None:
        missing = tmp_path / "nope.yaml"
        assert problems(missing).startswith(f"MODELS_FILE {missing}: cannot be read")
        shapeless = tmp_path / "list.yaml"
        shapeless.write_text("- id: x\n")
        assert problems(shapeless) == f"{shapeless}: must be a mapping with a `models` list"
        twice = write(tmp_path, NEW_MODEL, NEW_MODEL)
        assert problems(twice) == f"{twice}: model 'acme/kling-i2v': listed twice"


@pytest.fixture
def operator_catalog(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setattr(get_settings(), "models_file", write(tmp_path, NEW_MODEL))
    registry.reload()
    yield
    monkeypatch.undo()
    registry.reload()


class TestRegistry:
    def test_an_alias_resolves_to_the_model(self) -> None:
        assert registry.get_model("flux-schnell").id == "fal-ai/flux/schnell"
        assert registry.get_model("veo-3.1-generate-preview").id == "veo-3.1"

    def test_an_unknown_name_is_a_422_listing_the_models(self) -> None:
        with pytest.raises(InvalidInput) as caught:
            registry.get_model("flux-slow")
        [error] = caught.value.errors
        assert error.loc == ("model",)
        assert error.msg.startswith("unknown model 'flux-slow'; known models: local/video, ")

    @pytest.mark.usefixtures("operator_catalog")
    def test_models_file_is_read_from_the_setting(self) -> None:
        assert registry.get_model("kling-i2v").id == "acme/kling-i2v"
