"""Providers' callbacks out of the emulator, signed the way each provider signs.

A job submitted with a callback URL (fal's `fal_webhook` query parameter, Replicate's
`webhook` in the prediction body) is called back once it ends, `callback_delay_s` later;
with probability `callback_loss_rate` the call is never made, and it is made
`1 + callback_duplicates` times (a Replicate duplicate keeps its `webhook-id`, as a retry
would). Every call is logged at `GET /_emulator/callbacks` with the status it got.

- fal: ED25519 over `request_id \\n user_id \\n timestamp \\n sha256(body) hex`, hex in
  `X-Fal-Webhook-Signature`; the public key is served as a JWKS at
  `GET /_emulator/fal/jwks.json` (fal's is at rest.alpha.fal.ai/.well-known/jwks.json).
- Replicate: Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`:
  `v1,` base64 HMAC-SHA256 of `id.timestamp.body`) under a `whsec_` secret, served like
  Replicate's at `GET /v1/webhooks/default/secret`.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import secrets
import time
import uuid
from collections.abc import Callable
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from emulator.state import Job

FAL_USER_ID = "emulator-user"
SEND_TIMEOUT_S = 10.0
# Callbacks in the air at once; the rest wait their turn here. Thousands waiting inside the
# HTTP client's pool instead cost it time quadratic in their number (httpcore matches every
# waiting request against every connection on each change), and the emulator stalls.
MAX_SENDING = 64


class Signer:
    """The emulator's signing keys: one ED25519 pair (fal), one `whsec_` secret (Replicate)."""

    def __init__(self) -> None:
        self.fal_key = Ed25519PrivateKey.generate()
        self.replicate_secret = "whsec_" + base64.b64encode(secrets.token_bytes(32)).decode()
        # Deliveries made so far: {"provider", "request_id", "status_code" | "lost"}.
        self.log: list[dict[str, Any]] = []
        self._tasks: set[asyncio.Task[None]] = set()
        # One client for every callback, on the loop that sends them: a client of its own
        # per callback builds an SSL context each time (~50 ms of the event loop), which
        # held the emulator below 20 callbacks a second.
        self._client: (
            tuple[asyncio.AbstractEventLoop, httpx.AsyncClient, asyncio.Semaphore] | None
        ) = None

    def _http(self) -> tuple[httpx.AsyncClient, asyncio.Semaphore]:
        loop = asyncio.get_running_loop()
        if self._client is None or self._client[0] is not loop:
            limits = httpx.Limits(max_connections=MAX_SENDING)
            client = httpx.AsyncClient(timeout=SEND_TIMEOUT_S, limits=limits)
            self._client = (loop, client, asyncio.Semaphore(MAX_SENDING))
        return self._client[1], self._client[2]

    def jwks(self) -> dict[str, Any]:
        raw = self.fal_key.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
        x = base64.urlsafe_b64encode(raw).decode().rstrip("=")
        key = {"kty": "OKP", "crv": "Ed25519", "x": x, "kid": "emulator", "use": "sig"}
        return {"keys": [key]}

    def fal_headers(self, request_id: str, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        signed = "\n".join([request_id, FAL_USER_ID, timestamp, hashlib.sha256(body).hexdigest()])
        return {
            "X-Fal-Webhook-Request-Id": request_id,
            "X-Fal-Webhook-User-Id": FAL_USER_ID,
            "X-Fal-Webhook-Timestamp": timestamp,
            "X-Fal-Webhook-Signature": self.fal_key.sign(signed.encode()).hex(),
        }

    def replicate_headers(self, msg_id: str, body: bytes) -> dict[str, str]:
        timestamp = str(int(time.time()))
        key = base64.b64decode(self.replicate_secret.removeprefix("whsec_"))
        mac = hmac.new(key, f"{msg_id}.{timestamp}.".encode() + body, hashlib.sha256)
        signature = "v1," + base64.b64encode(mac.digest()).decode()
        return {
            "webhook-id": msg_id,
            "webhook-timestamp": timestamp,
            "webhook-signature": signature,
        }

    def schedule(
        self,
        *,
        provider: str,
        job: Job,
        url: str,
        clock: Callable[[], float],
        delay_s: float,
        lost: bool,
        copies: int,
        body: Callable[[], dict[str, Any]],
    ) -> None:
        """Call `url` once `job` has ended and `delay_s` more has passed."""
        task = asyncio.get_running_loop().create_task(
            self._send(provider, job, url, clock, delay_s, lost, copies, body)
        )
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(
        self,
        provider: str,
        job: Job,
        url: str,
        clock: Callable[[], float],
        delay_s: float,
        lost: bool,
        copies: int,
        body: Callable[[], dict[str, Any]],
    ) -> None:
        await asyncio.sleep(max(0.0, job.finished_at() - clock()) + delay_s)
        # A job canceled meanwhile ends earlier: wait for its real end.
        await asyncio.sleep(max(0.0, job.finished_at() - clock()))
        if lost:
            self.log.append({"provider": provider, "request_id": job.id, "lost": True})
            return
        payload = json.dumps(body()).encode()
        msg_id = f"msg_{uuid.uuid4().hex}"
        client, sending = self._http()
        for _ in range(1 + copies):
            entry: dict[str, Any] = {"provider": provider, "request_id": job.id}
            async with sending:
                headers = (
                    self.fal_headers(job.id, payload)
                    if provider == "fal"
                    else self.replicate_headers(msg_id, payload)
                )
                headers["Content-Type"] = "application/json"
                try:
                    response = await client.post(url, content=payload, headers=headers)
                    entry["status_code"] = response.status_code
                    entry["answer"] = response.text[:200]
                except httpx.HTTPError as exc:
                    entry["error"] = type(exc).__name__
            self.log.append(entry)

    def reset(self) -> None:
        self.log.clear()
