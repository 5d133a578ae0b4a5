"""Replicate's webhooks: Standard Webhooks signatures, and the prediction as the body.

`webhook-signature` holds space-separated `v1,<base64 HMAC-SHA256>` of
`"{webhook-id}.{webhook-timestamp}.{body}"`, keyed with the bytes of the account's `whsec_`
secret (`GET /v1/webhooks/default/secret`). A timestamp more than `max_age_s` from now is
refused. We ask only for `completed` events (`webhook_events_filter`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from collections.abc import Mapping

from workers.errors import RetryableProviderError
from workers.provider.callbacks import Callback, CallbackRefused
from workers.provider.replicate import status_of

PREFIX = "whsec_"


class ReplicateVerifier:
    def __init__(self, secret: str, *, max_age_s: float) -> None:
        self.key = base64.b64decode(secret.removeprefix(PREFIX)) if secret else b""
        self.max_age_s = max_age_s

    def verify(self, headers: Mapping[str, str], body: bytes) -> Callback:
        msg_id = headers.get("webhook-id")
        timestamp = headers.get("webhook-timestamp")
        signatures = headers.get("webhook-signature")
        if not (self.key and msg_id and timestamp and signatures):
            raise CallbackRefused("replicate: signature headers missing (or no secret set)")
        try:
            if abs(time.time() - int(timestamp)) > self.max_age_s:
                raise CallbackRefused("replicate: timestamp too far from now")
        except ValueError:
            raise CallbackRefused("replicate: unreadable timestamp") from None
        signed = f"{msg_id}.{timestamp}.".encode() + body
        expected = base64.b64encode(hmac.new(self.key, signed, hashlib.sha256).digest())
        offered = [s.partition(",")[2].encode() for s in signatures.split() if s.startswith("v1,")]
        if not any(hmac.compare_digest(expected, s) for s in offered):
            raise CallbackRefused("replicate: signature does not verify")
        return parse(body)


def parse(body: bytes) -> Callback:
    try:
        prediction = json.loads(body)
    except ValueError:
        raise CallbackRefused("replicate: body is not JSON") from None
    if not isinstance(prediction, dict) or not isinstance(prediction.get("id"), str):
        raise CallbackRefused("replicate: body is not a prediction")
    try:
        status = status_of(prediction)
    except RetryableProviderError:
        raise CallbackRefused("replicate: unknown prediction status") from None
    return Callback(prediction["id"], status)
