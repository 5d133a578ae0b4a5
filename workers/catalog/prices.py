"""The published price of every catalog model, in the shape its provider charges.

Each entry says where the figure comes from and when it was looked up. Where the
provider's own page could not be read, the note says so and says what the figure rests
on: treat those as estimates and override them with `MODEL_PRICES_USD` once checked
against your invoice. Prices are in US dollars, before any discount or tax.

No provider here is known to bill a request that failed or was canceled before it
finished, so none sets `charges_failures` (unconfirmed for cancellations: set it through
`MODEL_PRICES_USD` if an invoice shows otherwise). A request the provider finished is
always billed, even when the job fails after it (see `workers.job.state.cost`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from workers.catalog.pricing import FREE, Price, Unit

LOOKED_UP = date(2026, 11, 30)

PUBLISHED: dict[str, Price] = {
    "local/video": FREE,
    "local/image": FREE,
    "fal-ai/ltx-video": Price(
        Unit.SECOND,
        Decimal("0.04"),
        source="fal pricing API (as quoted by a public snapshot dated 2026-01-04)",
        checked=LOOKED_UP,
        note="Not confirmed on fal's model page. The model picks its own length (about 5 s "
        "at its defaults): the estimate assumes 5 s, the actual cost uses the real file.",
        assumed_seconds=5.0,
    ),
    "fal-ai/hunyuan-video": Price(
        Unit.SECOND,
        Decimal("0.075"),
        source="fal pricing API (as quoted by a public snapshot dated 2026-01-04)",
        checked=LOOKED_UP,
        note="Not confirmed on fal's model page; consistent with the earlier $0.40 a video "
        "(129 frames at 24 fps ≈ 5.4 s), which the estimate assumes.",
        assumed_seconds=5.4,
    ),
    "fal-ai/kling-video/v1/standard/text-to-video": Price(
        Unit.SECOND,
        Decimal("0.045"),
        source="fal model page of Kling 1.0 standard image-to-video ($0.045 per second)",
        checked=LOOKED_UP,
        note="The text-to-video page's own price was not found; public price tables "
        "disagree ($0.03 to $0.09 a second). Unconfirmed.",
    ),
    "fal-ai/minimax/video-01": Price(
        Unit.REQUEST,
        Decimal("0.50"),
        source="fal pricing API (as quoted by a public snapshot dated 2026-01-04): $0.50 a video",
        checked=LOOKED_UP,
        note="Not confirmed on fal's model page.",
    ),
    "fal-ai/flux/schnell": Price(
        Unit.MEGAPIXEL,
        Decimal("0.003"),
        source="fal pricing API (as quoted by a public snapshot dated 2026-01-04): "
        "$0.003 per megapixel",
        checked=LOOKED_UP,
        note="Public notes say fal rounds each image up to whole megapixels (1024×768 "
        "costs 1 MP); that rounding is applied here but not confirmed on fal's page.",
        round_up=True,
    ),
    "sora-2": Price(
        Unit.SECOND,
        Decimal("0.10"),
        by_resolution={"720p": Decimal("0.10")},
        source="OpenAI API pricing for sora-2, $0.10 a second at 720×1280 or 1280×720 "
        "(as reported consistently by several public pages)",
        checked=LOOKED_UP,
        note="OpenAI's own pricing page could not be read from here.",
    ),
    "sora-2-pro": Price(
        Unit.SECOND,
        Decimal("0.30"),
        by_resolution={"720p": Decimal("0.30")},
        source="OpenAI API pricing for sora-2-pro, $0.30 a second at 720p "
        "(as reported consistently by several public pages)",
        checked=LOOKED_UP,
        note="OpenAI's own pricing page could not be read from here. Its 1024×1792 and "
        "1792×1024 sizes cost $0.50 a second; the catalog does not offer them.",
    ),
    "minimax/video-01": Price(
        Unit.REQUEST,
        Decimal("0.50"),
        source="assumed equal to fal's $0.50 a video",
        checked=LOOKED_UP,
        note="Replicate's price for this model could not be confirmed. Unconfirmed.",
    ),
    "black-forest-labs/flux-schnell": Price(
        Unit.IMAGE,
        Decimal("0.003"),
        source="Replicate, $0.003 an output image (as reported by public price comparisons, "
        "May 2026)",
        checked=LOOKED_UP,
        note="Replicate's own model page could not be read from here.",
    ),
    "veo-3.1": Price(
        Unit.SECOND,
        Decimal("0.40"),
        by_resolution={"720p": Decimal("0.40"), "1080p": Decimal("0.40")},
        source="Gemini API pricing for veo-3.1-generate-preview, $0.40 a second of video "
        "with audio at 720p or 1080p (as quoted by public pages citing ai.google.dev, "
        "April 2026)",
        checked=LOOKED_UP,
        note="Google's pricing page could not be read from here; 4K ($0.60 a second) is "
        "not offered by the catalog.",
    ),
}
