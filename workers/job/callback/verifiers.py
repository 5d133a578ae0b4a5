"""Each provider's callback verifier, built once per process from the settings."""

from __future__ import annotations

from functools import cache

from workers.provider.callbacks import Verifier
from workers.provider.fal_callback import FalVerifier, JWKSCache
from workers.provider.replicate_callback import ReplicateVerifier
from workers.settings import get_settings


@cache
def verifier_for(provider: str) -> Verifier:
    settings = get_settings()
    if provider == "fal":
        jwks = JWKSCache(settings.fal_jwks_url, settings.fal_jwks_cache_s)
        return FalVerifier(jwks, max_age_s=settings.callback_max_age_s)
    if provider == "replicate":
        secret = settings.replicate_webhook_secret.get_secret_value()
        return ReplicateVerifier(secret, max_age_s=settings.callback_max_age_s)
    raise KeyError(provider)
