"""The price of a job in every shape a provider charges, and the prices as data."""

from __future__ import annotations

from decimal import Decimal

import pytest
from pydantic import ValidationError

from workers.catalog.models import ModelSpec
from workers.catalog.pricing import (
    FREE,
    Output,
    Price,
    Unit,
    check_overrides,
    compute,
    effective_price,
    price_job,
)
from workers.catalog.registry import all_models, get_model
from workers.catalog.validation import normalize_input
from workers.settings import PriceOverride, Settings, get_settings


def price_of(model: str) -> Price:
    return effective_price(get_model(model))


def canonical(model: str, **raw: object) -> dict[str, object]:
    """A request for `model`: a prompt, and the image or video it starts from."""
    spec = get_model(model)
    sample: dict[str, object] = {}
    if spec.inputs.prompt is not None:
        sample["prompt"] = "a lighthouse at dusk"
    if spec.inputs.image_url is not None:
        sample["image_url"] = "https://example.com/a.png"
    if spec.inputs.video_url is not None:
        sample["video_url"] = "https://example.com/a.mp4"
    return normalize_input(spec, {**sample, **raw})


class TestPerSecond:
    def test_requested_seconds_at_the_requested_resolution(self) -> None:
        cost = compute(price_of("veo-3.1"), canonical("veo-3.1", duration=8, resolution="1080p"))
        assert cost.usd == Decimal("3.20")
        assert cost.micros == 3_200_000
        assert cost.basis == "8 s × $0.40/s at 1080p"

    def test_the_measured_duration_wins_over_the_requested_one(self) -> None:
        asked = canonical("sora-2", duration=4)
        cost = compute(price_of("sora-2"), asked, Output(seconds=4.041667, width=1280, height=720))
        assert cost.usd == Decimal("0.404")  # metered to the hundredth of a second
        assert cost.basis == "4.04 s × $0.10/s at 720p"

    def test_a_model_that_picks_its_length_is_estimated_on_assumed_seconds(self) -> None:
        estimate = compute(price_of("fal-ai/ltx-video"), canonical("fal-ai/ltx-video"))
        assert estimate.usd == Decimal("0.20")
        assert estimate.basis == "5 s (assumed) × $0.04/s"
        measured = compute(price_of("fal-ai/ltx-video"), {}, Output(seconds=6.5))
        assert measured.usd == Decimal("0.26")

    def test_a_resolution_without_its_own_rate_uses_the_base_rate(self) -> None:
        price = Price(Unit.SECOND, Decimal("0.2"), "test", by_resolution={"1080p": Decimal("1")})
        assert compute(price, {"duration": 2, "resolution": "480p"}).usd == Decimal("0.4")
        assert compute(price, {"duration": 2, "resolution": "1080p"}).usd == Decimal("2")

    def test_without_any_length_it_refuses_to_guess(self) -> None:
        with pytest.raises(ValueError, match="needs a duration"):
            compute(Price(Unit.SECOND, Decimal("0.1"), "test"), {"prompt": "x"})


class TestPerImage:
    def test_one_image(self) -> None:
        model = "black-forest-labs/flux-schnell"
        cost = compute(price_of(model), canonical(model, aspect_ratio="16:9"))
        assert cost.usd == Decimal("0.003")
        assert cost.basis == "1 image × $0.003/image"

    def test_counts_the_images_made(self) -> None:
        price = Price(Unit.IMAGE, Decimal("0.04"), "test")
        assert compute(price, {"num_images": 3}).usd == Decimal("0.12")
        made = compute(price, {"num_images": 3}, Output(width=64, height=64, count=2))
        assert (made.usd, made.basis) == (Decimal("0.08"), "2 images × $0.04/image")


class TestPerMegapixel:
    def test_rounds_up_to_whole_megapixels_when_the_provider_does(self) -> None:
        model = "fal-ai/flux/schnell"
        small = compute(price_of(model), canonical(model))  # its default 1024×768
        assert small.usd == Decimal("0.003")
        assert small.basis == "1 image of 1024×768 = 1 MP (rounded up) × $0.003/MP"
        large = compute(
            price_of(model), canonical(model, resolution={"width": 1920, "height": 1080})
        )
        assert large.usd == Decimal("0.006")

    def test_exact_megapixels_otherwise(self) -> None:
        price = Price(Unit.MEGAPIXEL, Decimal("0.025"), "test")
        cost = compute(price, {"width": 1024, "height": 512})
        assert cost.usd == Decimal("0.0125")
        assert cost.basis == "1 image of 1024×512 = 0.5 MP × $0.025/MP"

    def test_the_stored_size_wins_over_the_requested_one(self) -> None:
        price = Price(Unit.MEGAPIXEL, Decimal("0.01"), "test")
        cost = compute(price, {"width": 512, "height": 512}, Output(width=2048, height=2048))
        assert cost.usd == Decimal("0.04")

    def test_without_a_size_it_refuses_to_guess(self) -> None:
        with pytest.raises(ValueError, match="needs a size"):
            compute(Price(Unit.MEGAPIXEL, Decimal("0.01"), "test"), {"prompt": "x"})


class TestOtherShapes:
    def test_per_character_of_speech(self) -> None:
        price = Price(Unit.CHARACTER, Decimal("0.05"), "test", per=1000)
        cost = compute(price, {"prompt": "x" * 250})
        assert cost.usd == Decimal("0.0125")
        assert cost.basis == "250 characters × $0.05/1,000 characters"

    def test_per_request(self) -> None:
        cost = compute(price_of("minimax/video-01"), canonical("minimax/video-01"))
        assert (cost.usd, cost.basis) == (Decimal("0.50"), "1 request × $0.50/request")

    def test_local_models_cost_nothing(self) -> None:
        for model in ("local/video", "local/image"):
            cost = compute(price_of(model), canonical(model), Output(seconds=9, width=8, height=8))
            assert cost.usd == 0
            assert cost.basis == "runs on our own workers: no charge"

    def test_amounts_round_half_up_to_the_micro_dollar(self) -> None:
        price = Price(Unit.REQUEST, Decimal("0.0000025"), "test")
        assert compute(price, {}).usd == Decimal("0.000003")


class TestPublishedPrices:
    @pytest.mark.parametrize("spec", all_models(), ids=lambda spec: spec.id)
    def test_every_model_is_priced_with_its_source(self, spec: ModelSpec) -> None:
        price = spec.price
        if spec.provider == "local":
            assert price == FREE
            return
        assert price.unit is not Unit.FREE
        assert price.usd > 0
        assert price.source
        assert price.checked is not None
        # Its default request can be estimated: no per-second model lacks a length.
        assert compute(price, canonical(spec.id)).usd > 0


class TestWhatTheModelMakes:
    """A model that makes more than asked (and is cut to it) is billed for what it made."""

    def test_a_fixed_length_model_costs_its_length_whatever_is_asked(self) -> None:
        ltx = get_model("fal-ai/ltx-video")
        estimate = price_job(ltx, canonical("fal-ai/ltx-video", duration=3))
        assert (estimate.usd, estimate.basis) == (Decimal("0.20"), "5 s (assumed) × $0.04/s")
        stored = Output(seconds=3.0, width=768, height=512)  # the cut file
        assert price_job(ltx, canonical("fal-ai/ltx-video", duration=3), stored).usd == Decimal(
            "0.20"
        )

    def test_a_frame_count_model_costs_the_frames_it_made(self) -> None:
        hunyuan = get_model("fal-ai/hunyuan-video")
        asked = canonical("fal-ai/hunyuan-video", duration=5)  # 129 frames at 24 fps
        cost = price_job(hunyuan, asked, Output(seconds=5.0, width=1280, height=720))
        assert cost.basis == "5.38 s × $0.075/s"
        assert price_job(hunyuan, canonical("fal-ai/hunyuan-video", duration=3)).basis == (
            "3.54 s × $0.075/s"  # 85 frames
        )

    def test_other_models_cost_the_stored_file(self) -> None:
        sora = get_model("sora-2")
        cost = price_job(sora, canonical("sora-2", duration=4), Output(seconds=4.0))
        assert cost.basis == "4 s × $0.10/s at 720p"


class TestOverrides:
    @pytest.fixture
    def overrides(self, monkeypatch: pytest.MonkeyPatch) -> dict[str, float | PriceOverride]:
        prices: dict[str, float | PriceOverride] = {}
        monkeypatch.setattr(get_settings(), "model_prices_usd", prices)
        return prices

    def test_a_number_replaces_the_rate_at_every_resolution(
        self, overrides: dict[str, float | PriceOverride]
    ) -> None:
        overrides["veo-3.1"] = 0.35
        price = price_of("veo-3.1")
        assert (price.unit, price.usd, dict(price.by_resolution)) == (
            Unit.SECOND,
            Decimal("0.35"),
            {},
        )
        assert price.source == "the MODEL_PRICES_USD setting"
        assert compute(price, canonical("veo-3.1", duration=4)).usd == Decimal("1.40")

    def test_an_object_replaces_only_the_fields_it_names(
        self, overrides: dict[str, float | PriceOverride]
    ) -> None:
        overrides["veo-3.1"] = PriceOverride(by_resolution={"1080p": 0.5})
        price = price_of("veo-3.1")
        assert price.usd == Decimal("0.40")
        asked = canonical("veo-3.1", duration=8, resolution="1080p")
        assert compute(price, asked).basis == "8 s × $0.50/s at 1080p"
        overrides["local/image"] = PriceOverride(unit="image", usd=0.01)
        assert compute(price_of("local/image"), canonical("local/image")).usd == Decimal("0.01")

    def test_read_from_the_environment_as_json(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setenv(
            "MODEL_PRICES_USD", '{"sora-2": 0.12, "veo-3.1": {"charges_failures": true}}'
        )
        prices = Settings().model_prices_usd
        assert prices["sora-2"] == 0.12
        assert prices["veo-3.1"] == PriceOverride(charges_failures=True)

    @pytest.mark.parametrize(
        "value", ['{"sora-2": -1}', '{"sora-2": {"usd": 0.1, "currency": "EUR"}}']
    )
    def test_a_bad_price_stops_the_start(self, monkeypatch: pytest.MonkeyPatch, value: str) -> None:
        monkeypatch.setenv("MODEL_PRICES_USD", value)
        with pytest.raises(ValidationError, match="model_prices_usd"):
            Settings()

    def test_an_unknown_model_is_named(self, overrides: dict[str, float | PriceOverride]) -> None:
        overrides["sora-3"] = 1.0
        with pytest.raises(ValueError, match="unknown models sora-3; known: "):
            check_overrides(all_models())

    def test_a_price_that_cannot_apply_is_named(
        self, overrides: dict[str, float | PriceOverride]
    ) -> None:
        overrides["local/video"] = 0.5
        check_overrides(all_models())
        overrides["black-forest-labs/flux-schnell"] = PriceOverride(unit="second")
        with pytest.raises(ValueError, match="cannot price black-forest-labs/flux-schnell: a per"):
            check_overrides(all_models())

    def test_a_model_without_a_prompt_is_checked_too(
        self, overrides: dict[str, float | PriceOverride]
    ) -> None:
        upscaler = ModelSpec.model_validate(
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
        overrides["acme/upscale"] = 0.02
        check_overrides([*all_models(), upscaler])
