"""Every model the system knows. Hosted models' inputs follow their providers' schemas."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

from workers.catalog.models import InputSpec, ModelSpec, Tier
from workers.catalog.prices import PUBLISHED
from workers.errors import InvalidInput
from workers.media.formats import MediaKind

_VIDEO_ASPECTS = ("16:9", "9:16", "1:1")

_UNPRICED: tuple[ModelSpec, ...] = (
    ModelSpec(
        id="local/video",
        provider="local",
        kind=MediaKind.VIDEO,
        tier=Tier.FAST,
        description="Built-in CPU renderer: H.264 MP4 derived from the prompt.",
        typical_latency_s=1.0,
        inputs=InputSpec(
            duration_range=(1, 10),
            default_duration=3,
            resolutions=("480p", "720p", "1080p"),
            custom_size=(64, 1920),
            default_size=(854, 480),
            aspect_ratios=_VIDEO_ASPECTS,
            default_aspect_ratio="16:9",
        ),
    ),
    ModelSpec(
        id="local/image",
        provider="local",
        kind=MediaKind.IMAGE,
        tier=Tier.FAST,
        description="Built-in CPU renderer: PNG derived from the prompt.",
        typical_latency_s=0.5,
        inputs=InputSpec(
            resolutions=("480p", "720p", "1080p"),
            custom_size=(64, 2048),
            default_size=(1024, 1024),
            aspect_ratios=_VIDEO_ASPECTS,
        ),
    ),
    ModelSpec(
        id="fal-ai/ltx-video",
        provider="fal",
        kind=MediaKind.VIDEO,
        tier=Tier.FAST,
        description="LTX Video on fal: the fastest text-to-video (~30 s).",
        typical_latency_s=30,
    ),
    ModelSpec(
        id="fal-ai/hunyuan-video",
        provider="fal",
        kind=MediaKind.VIDEO,
        tier=Tier.BALANCED,
        description="HunyuanVideo on fal (~45 s).",
        typical_latency_s=45,
        inputs=InputSpec(
            resolutions=("480p", "720p"),
            aspect_ratios=("16:9", "9:16"),
            default_aspect_ratio="16:9",
            default_size=(1280, 720),
        ),
    ),
    ModelSpec(
        id="fal-ai/kling-video/v1/standard/text-to-video",
        provider="fal",
        kind=MediaKind.VIDEO,
        tier=Tier.QUALITY,
        description="Kling 1.0 standard on fal (~90 s).",
        typical_latency_s=90,
        inputs=InputSpec(
            max_prompt_length=2500,
            durations=(5, 10),
            default_duration=5,
            aspect_ratios=_VIDEO_ASPECTS,
            default_aspect_ratio="16:9",
            takes_seed=False,
        ),
    ),
    ModelSpec(
        id="fal-ai/minimax/video-01",
        provider="fal",
        kind=MediaKind.VIDEO,
        tier=Tier.BALANCED,
        description="MiniMax Video-01 on fal.",
        typical_latency_s=60,
        inputs=InputSpec(takes_seed=False),
    ),
    ModelSpec(
        id="fal-ai/flux/schnell",
        provider="fal",
        kind=MediaKind.IMAGE,
        tier=Tier.FAST,
        description="FLUX.1 [schnell] on fal: images in about a second.",
        typical_latency_s=2,
        inputs=InputSpec(custom_size=(64, 2048), default_size=(1024, 768)),
    ),
    ModelSpec(
        id="sora-2",
        provider="openai",
        kind=MediaKind.VIDEO,
        tier=Tier.BALANCED,
        description="OpenAI Sora 2 through the Videos API.",
        typical_latency_s=60,
        inputs=InputSpec(
            durations=(4, 8, 12),
            default_duration=4,
            resolutions=("720p",),
            aspect_ratios=("16:9", "9:16"),
            default_aspect_ratio="16:9",
            default_size=(1280, 720),
            takes_seed=False,
        ),
        retires_on=date(2026, 9, 24),
    ),
    ModelSpec(
        id="sora-2-pro",
        provider="openai",
        kind=MediaKind.VIDEO,
        tier=Tier.QUALITY,
        description="OpenAI Sora 2 Pro through the Videos API.",
        typical_latency_s=120,
        inputs=InputSpec(
            durations=(4, 8, 12),
            default_duration=4,
            resolutions=("720p",),
            aspect_ratios=("16:9", "9:16"),
            default_aspect_ratio="16:9",
            default_size=(1280, 720),
            takes_seed=False,
        ),
        retires_on=date(2026, 9, 24),
    ),
    ModelSpec(
        id="minimax/video-01",
        provider="replicate",
        kind=MediaKind.VIDEO,
        tier=Tier.BALANCED,
        description="MiniMax Video-01 on Replicate.",
        typical_latency_s=60,
        inputs=InputSpec(takes_seed=False),
    ),
    ModelSpec(
        id="black-forest-labs/flux-schnell",
        provider="replicate",
        kind=MediaKind.IMAGE,
        tier=Tier.FAST,
        description="FLUX.1 [schnell] on Replicate.",
        typical_latency_s=2,
        inputs=InputSpec(aspect_ratios=("1:1", "16:9", "9:16"), default_aspect_ratio="1:1"),
    ),
    ModelSpec(
        id="veo-3.1",
        provider="gemini",
        wire_id="veo-3.1-generate-preview",
        kind=MediaKind.VIDEO,
        tier=Tier.QUALITY,
        description="Google Veo 3.1 through the Gemini API.",
        typical_latency_s=90,
        inputs=InputSpec(
            durations=(4, 6, 8),
            default_duration=8,
            resolutions=("720p", "1080p"),
            durations_at={"1080p": (8,)},
            aspect_ratios=("16:9", "9:16"),
            default_aspect_ratio="16:9",
            default_size=(1280, 720),
            takes_seed=False,
        ),
    ),
)

_missing = {spec.id for spec in _UNPRICED} ^ set(PUBLISHED)
assert not _missing, f"catalog models and published prices differ: {sorted(_missing)}"
MODELS: tuple[ModelSpec, ...] = tuple(replace(spec, price=PUBLISHED[spec.id]) for spec in _UNPRICED)

_BY_ID = {spec.id: spec for spec in MODELS}
assert len(_BY_ID) == len(MODELS), "duplicate model id in the catalog"


def all_models() -> tuple[ModelSpec, ...]:
    return MODELS


def get_model(model_id: str) -> ModelSpec:
    try:
        return _BY_ID[model_id]
    except KeyError:
        known = ", ".join(sorted(_BY_ID))
        raise InvalidInput.at(
            "model", msg=f"unknown model {model_id!r}; known models: {known}"
        ) from None
