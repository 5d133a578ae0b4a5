"""Standard Webhooks signatures: `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`.

A secret is `whsec_` and the base64 of 32 random bytes; the HMAC key is those bytes. With
several secrets (a rotation's overlap) the header carries one signature per secret,
space-separated, and a receiver accepts the delivery when any of them verifies.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from collections.abc import Sequence

PREFIX = "whsec_"


def new_secret() -> str:
    return PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def _key(secret: str) -> bytes:
    if not secret.startswith(PREFIX):
        raise ValueError("a webhook secret starts with whsec_")
    return base64.b64decode(secret[len(PREFIX) :])


def signature(msg_id: str, timestamp: int, body: str, secrets_: Sequence[str]) -> str:
    """The `webhook-signature` header for `body` sent as `msg_id` at `timestamp` (Unix s)."""
    if not secrets_:
        raise ValueError("signing needs at least one secret")
    signed = f"{msg_id}.{timestamp}.{body}".encode()
    return " ".join(
        "v1," + base64.b64encode(hmac.new(_key(s), signed, hashlib.sha256).digest()).decode()
        for s in secrets_
    )
