"""A job's callback URL: `/v1/callbacks/<provider>/<job id>.<mac>`.

The mac is an HMAC-SHA256 of the provider and the job id under CALLBACK_SECRET, so the URL
is unguessable without a column of its own, and checked in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid

from workers.provider.callbacks import CALLBACK_PROVIDERS
from workers.settings import get_settings

MAC_CHARS = 32  # 192 bits of the HMAC, base64url


def enabled_for(provider: str) -> bool:
    """Whether this provider's jobs are submitted with a callback."""
    return get_settings().provider_callbacks and provider in CALLBACK_PROVIDERS


def token_for(job_id: uuid.UUID, provider: str) -> str:
    return f"{job_id.hex}.{_mac(job_id, provider)}"


def url_for(job_id: uuid.UUID, provider: str) -> str:
    base = get_settings().public_base_url.rstrip("/")
    return f"{base}/v1/callbacks/{provider}/{token_for(job_id, provider)}"


def job_of(token: str, provider: str) -> uuid.UUID | None:
    """The job a token was made for, or None when it is not one of ours."""
    raw_id, _, mac = token.partition(".")
    try:
        job_id = uuid.UUID(hex=raw_id)
    except ValueError:
        return None
    if provider not in CALLBACK_PROVIDERS or not hmac.compare_digest(
        mac.encode(), _mac(job_id, provider).encode()
    ):
        return None
    return job_id


def _mac(job_id: uuid.UUID, provider: str) -> str:
    key = get_settings().callback_secret.get_secret_value().encode()
    digest = hmac.new(key, f"callback:{provider}:{job_id.hex}".encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(digest).decode()[:MAC_CHARS]
