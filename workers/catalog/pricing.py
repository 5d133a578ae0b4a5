"""What a job costs: a model's price in the shape its provider charges, and one pure
function from a price, a canonical input and (when known) the actual output to dollars.

The published prices, with their sources and the dates they were looked up, are data:
each catalog entry's `price` (`workers/catalog/models.yaml`); the `MODEL_PRICES_USD`
setting overrides them (`effective_price`). Amounts are `Decimal`
dollars rounded to the micro-dollar, the unit the jobs table stores.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from enum import StrEnum
from typing import TYPE_CHECKING, Annotated, Any

from pydantic import ConfigDict, Field
from pydantic.dataclasses import dataclass as validated_dataclass

from workers.settings import PriceOverride, get_settings

if TYPE_CHECKING:
    from workers.catalog.models import ModelSpec

MICRO = Decimal("0.000001")
# fal prices images per megapixel and bills a 1024×1024 image as one: a megapixel here is
# 1024² pixels.
PIXELS_PER_MEGAPIXEL = 1024 * 1024


class Unit(StrEnum):
    FREE = "free"  # runs on our own workers
    SECOND = "second"  # per second of video (or audio) generated
    IMAGE = "image"  # per image
    MEGAPIXEL = "megapixel"  # per megapixel of image output
    CHARACTER = "character"  # per character of text spoken
    REQUEST = "request"  # per request, whatever it makes (one video, one run)


@validated_dataclass(frozen=True, config=ConfigDict(extra="forbid"))
class Price:
    """A model's price: `usd` per `per` units, or the rate of the requested resolution.
    Validated as it is read from the catalog's data, so a bad one names its field."""

    unit: Unit
    usd: Annotated[Decimal, Field(ge=0)]
    source: str
    checked: date | None = None  # when `source` was looked up
    note: str = ""
    per: int = 1  # e.g. 1000 for "$0.05 per 1,000 characters"
    by_resolution: Mapping[str, Decimal] = field(default_factory=dict)
    # Per-second models that take no duration pick their own length: the estimate assumes
    # this many seconds; the actual cost uses the stored file's real duration.
    assumed_seconds: float | None = None
    round_up: bool = False  # megapixels are rounded up to whole ones
    # The provider bills a request it accepted even if it then fails or is canceled.
    charges_failures: bool = False

    def rate(self, resolution: str | None) -> Decimal:
        return self.by_resolution.get(resolution or "", self.usd)


FREE = Price(Unit.FREE, Decimal(0), source="runs on our own workers")


@dataclass(frozen=True)
class Output:
    """What a finished job actually made, as measured on the stored file."""

    seconds: float | None = None
    width: int | None = None
    height: int | None = None
    count: int = 1


@dataclass(frozen=True)
class Cost:
    usd: Decimal
    basis: str  # how it was computed, e.g. "8 s × $0.40/s at 720p"

    @property
    def micros(self) -> int:
        return int(self.usd / MICRO)


def compute(price: Price, canonical: Mapping[str, Any], output: Output | None = None) -> Cost:
    """The cost of one job of a model priced `price`, asked for `canonical` (the normalized
    input) and, once it is known, having made `output`: measured quantities win over
    requested ones. Raises `ValueError` when the price needs a quantity neither gives."""
    resolution = canonical.get("resolution")
    rate = price.rate(resolution)
    at = f" at {resolution}" if resolution in price.by_resolution else ""
    if price.unit is Unit.FREE:
        return Cost(Decimal(0), f"{price.source}: no charge")
    if price.unit is Unit.SECOND:
        seconds, assumed = _seconds(price, canonical, output)
        amount = Decimal(str(seconds)) * rate / price.per
        length = f"{_num(seconds)} s{' (assumed)' if assumed else ''}"
        return _cost(amount, f"{length} × {money(rate)}/{_per(price, 's', 's')}{at}")
    if price.unit is Unit.IMAGE:
        count = output.count if output is not None else int(canonical.get("num_images", 1))
        return _cost(count * rate / price.per, f"{_images(count)} × {money(rate)}/image{at}")
    if price.unit is Unit.MEGAPIXEL:
        width, height = _size(canonical, output)
        count = output.count if output is not None else int(canonical.get("num_images", 1))
        exact = Decimal(width * height) / PIXELS_PER_MEGAPIXEL
        megapixels = Decimal(math.ceil(exact)) if price.round_up else exact.quantize(MICRO)
        rounded = " (rounded up)" if price.round_up and megapixels != exact else ""
        return _cost(
            count * megapixels * rate / price.per,
            f"{_images(count)} of {width}×{height} = {_num(float(megapixels))} MP{rounded}"
            f" × {money(rate)}/{_per(price, 'MP', 'MP')}",
        )
    if price.unit is Unit.CHARACTER:
        characters = len(str(canonical.get("prompt", "")))
        return _cost(
            characters * rate / price.per,
            f"{characters} characters × {money(rate)}/{_per(price, 'character', 'characters')}",
        )
    return _cost(rate / price.per, f"1 request × {money(rate)}/request{at}")


def price_job(spec: ModelSpec, canonical: Mapping[str, Any], output: Output | None = None) -> Cost:
    """`compute` at `spec`'s effective price, for what the model makes. A model that makes
    more than asked, cut to it by us (`trim`), is billed for what it made: its frame count
    or choice covering the asked length, or its own fixed length (the price's
    `assumed_seconds`) when none is sent; never the shorter stored file."""
    duration = spec.inputs.duration
    asked = canonical.get("duration")
    if duration is not None and duration.trim and asked is not None:
        made = dict(canonical)
        made.pop("duration")
        if duration.frames is not None or duration.choices is not None:
            made["duration"] = round(duration.wire_seconds(float(asked)), 3)
        canonical = made
        output = replace(output, seconds=None) if output is not None else None
    return compute(effective_price(spec), canonical, output)


def effective_price(spec: ModelSpec) -> Price:
    """`spec`'s published price with the `MODEL_PRICES_USD` setting applied."""
    override = get_settings().model_prices_usd.get(spec.id)
    if override is None:
        return spec.price
    return apply_override(spec.price, override)


def apply_override(price: Price, override: float | PriceOverride) -> Price:
    """A number replaces the rate at every resolution; an object replaces the fields it
    names and keeps the others."""
    if not isinstance(override, PriceOverride):
        override = PriceOverride(usd=override, by_resolution={})
    changes: dict[str, Any] = {"source": "the MODEL_PRICES_USD setting", "checked": None}
    for name, value in override.model_dump(exclude_unset=True, exclude_none=True).items():
        if name == "unit":
            changes[name] = Unit(value)
        elif name == "usd":
            changes[name] = Decimal(str(value))
        elif name == "by_resolution":
            changes[name] = {k: Decimal(str(v)) for k, v in value.items()}
        else:
            changes[name] = value
    return replace(price, **changes)


def check_overrides(models: Iterable[ModelSpec]) -> None:
    """Refuse (`ValueError`) a `MODEL_PRICES_USD` that names a model the catalog lacks, or
    gives one a price its requests cannot be priced by (a per-second price for an image)."""
    from workers.catalog.validation import normalize_input  # validation imports the models

    specs = {spec.id: spec for spec in models}
    unknown = sorted(set(get_settings().model_prices_usd) - set(specs))
    if unknown:
        raise ValueError(
            f"MODEL_PRICES_USD names unknown models {', '.join(unknown)}; "
            f"known: {', '.join(sorted(specs))}"
        )
    for model_id in get_settings().model_prices_usd:
        spec = specs[model_id]
        sample: dict[str, Any] = {}
        if spec.inputs.prompt is not None:
            sample["prompt"] = "a price check"
        if spec.inputs.image_url is not None:
            sample["image_url"] = "https://example.com/a-price-check.png"
        if spec.inputs.video_url is not None:
            sample["video_url"] = "https://example.com/a-price-check.mp4"
        try:
            price_job(spec, normalize_input(spec, sample))
        except ValueError as exc:
            raise ValueError(f"MODEL_PRICES_USD cannot price {model_id}: {exc}") from None


def _seconds(
    price: Price, canonical: Mapping[str, Any], output: Output | None
) -> tuple[float, bool]:
    """Seconds to bill, metered to the hundredth, and whether they are only assumed."""
    if output is not None and output.seconds is not None:
        return round(output.seconds, 2), False
    if canonical.get("duration") is not None:
        return round(float(canonical["duration"]), 2), False
    if price.assumed_seconds is not None:
        return round(price.assumed_seconds, 2), True
    raise ValueError("a per-second price needs a duration, an output or assumed_seconds")


def _size(canonical: Mapping[str, Any], output: Output | None) -> tuple[int, int]:
    if output is not None and output.width and output.height:
        return output.width, output.height
    if canonical.get("width") and canonical.get("height"):
        return int(canonical["width"]), int(canonical["height"])
    raise ValueError("a per-megapixel price needs a size, asked for or measured")


def _cost(amount: Decimal, basis: str) -> Cost:
    return Cost(amount.quantize(MICRO, rounding=ROUND_HALF_UP), basis)


def money(usd: Decimal) -> str:
    text = f"{usd.normalize():f}"
    whole, _, cents = text.partition(".")
    return f"${whole}.{cents.ljust(2, '0')}"


def _num(value: float) -> str:
    return f"{value:.2f}".rstrip("0").rstrip(".")


def _per(price: Price, one: str, many: str) -> str:
    return one if price.per == 1 else f"{price.per:,} {many}"


def _images(count: int) -> str:
    return "1 image" if count == 1 else f"{count} images"
