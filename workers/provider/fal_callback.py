"""fal's webhooks: ED25519 signatures under fal's published keys (a JWKS).

fal signs `"\n".join([request_id, user_id, timestamp, sha256(body).hexdigest()])` and sends
it hex-encoded in `X-Fal-Webhook-Signature`, beside `X-Fal-Webhook-Request-Id`, `-User-Id`
and `-Timestamp` (Unix seconds, refused when more than `max_age_s` away from now). The keys
are the `OKP`/`Ed25519` entries of the JWKS at FAL_JWKS_URL, cached; an unknown signer
refreshes them once (fal rotates keys), at most once a minute.

The body: `{"request_id", "gateway_request_id", "status": "OK" | "ERROR", "payload",
"error"}`; "OK" is the end of a request whose result the queue then serves.
"""

from __future__ import annotations

import base64
import hashlib
import json
import threading
import time
from collections.abc import Callable, Mapping

import httpx
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from workers.provider.base import RemoteState, RemoteStatus
from workers.provider.callbacks import Callback, CallbackRefused

REFRESH_AT_MOST_EVERY_S = 60.0


def message(request_id: str, user_id: str, timestamp: str, body: bytes) -> bytes:
    return "\n".join([request_id, user_id, timestamp, hashlib.sha256(body).hexdigest()]).encode()


def keys_of(jwks: object) -> list[Ed25519PublicKey]:
    """The ED25519 public keys of a JWKS document; other keys are skipped."""
    found = []
    entries = jwks.get("keys") if isinstance(jwks, dict) else None
    for entry in entries if isinstance(entries, list) else []:
        if not isinstance(entry, dict) or entry.get("crv") != "Ed25519":
            continue
        raw = str(entry.get("x") or "")
        try:
            key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
            found.append(Ed25519PublicKey.from_public_bytes(key))
        except ValueError:
            continue
    return found


class JWKSCache:
    """fal's public keys, fetched from `url` and kept `ttl_s`; thread-safe."""

    def __init__(
        self, url: str, ttl_s: float, *, fetch: Callable[[str], object] | None = None
    ) -> None:
        self.url, self.ttl_s = url, ttl_s
        self._fetch = fetch or _get_json
        self._lock = threading.Lock()
        self._keys: list[Ed25519PublicKey] = []
        self._fetched_at = -1e18

    def keys(self, *, refresh: bool = False) -> list[Ed25519PublicKey]:
        with self._lock:
            age = time.monotonic() - self._fetched_at
            stale = age > self.ttl_s or not self._keys
            if stale or (refresh and age > REFRESH_AT_MOST_EVERY_S):
                try:
                    self._keys = keys_of(self._fetch(self.url))
                    self._fetched_at = time.monotonic()
                except (httpx.HTTPError, ValueError):
                    pass  # keep what we had; an empty set refuses every callback
            return list(self._keys)


class FalVerifier:
    def __init__(self, jwks: JWKSCache, *, max_age_s: float) -> None:
        self.jwks, self.max_age_s = jwks, max_age_s

    def verify(self, headers: Mapping[str, str], body: bytes) -> Callback:
        parts = [headers.get(f"x-fal-webhook-{h}") for h in ("request-id", "user-id", "timestamp")]
        signature = headers.get("x-fal-webhook-signature")
        if signature is None or any(p is None for p in parts):
            raise CallbackRefused("fal: signature headers missing")
        request_id, user_id, timestamp = (str(p) for p in parts)
        try:
            if abs(time.time() - int(timestamp)) > self.max_age_s:
                raise CallbackRefused("fal: timestamp too far from now")
            signed = bytes.fromhex(signature)
        except ValueError:
            raise CallbackRefused("fal: unreadable timestamp or signature") from None
        signed_message = message(request_id, user_id, timestamp, body)
        if not any(_valid(k, signed, signed_message) for k in self.jwks.keys()) and not any(
            _valid(k, signed, signed_message) for k in self.jwks.keys(refresh=True)
        ):
            raise CallbackRefused("fal: signature does not verify")
        return parse(body, request_id)


def parse(body: bytes, signed_request_id: str) -> Callback:
    try:
        data = json.loads(body)
    except ValueError:
        raise CallbackRefused("fal: body is not JSON") from None
    if not isinstance(data, dict) or data.get("request_id") != signed_request_id:
        raise CallbackRefused("fal: body names another request than its signature")
    if data.get("status") == "OK":
        return Callback(signed_request_id, RemoteStatus(RemoteState.SUCCEEDED))
    error = data.get("error") or "the provider reported a failure"
    detail = data.get("payload")
    return Callback(
        signed_request_id,
        RemoteStatus(
            RemoteState.FAILED,
            error_code="app_error",
            error_message=str(error) if not detail else f"{error}: {json.dumps(detail)[:500]}",
        ),
    )


def _valid(key: Ed25519PublicKey, signature: bytes, signed: bytes) -> bool:
    try:
        key.verify(signature, signed)
    except InvalidSignature:
        return False
    return True


def _get_json(url: str) -> object:
    response = httpx.get(url, timeout=10.0, follow_redirects=False)
    response.raise_for_status()
    return response.json()
