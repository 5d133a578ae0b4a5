"""Callback verification, against the emulator's own signing (no network but the JWKS)."""

from __future__ import annotations

import hashlib
import json
import time

import pytest

from emulator.callbacks import Signer
from workers.provider.base import RemoteState
from workers.provider.callbacks import CallbackRefused
from workers.provider.fal_callback import FalVerifier, JWKSCache
from workers.provider.replicate_callback import ReplicateVerifier


def lower(headers: dict[str, str]) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def fal_verifier(signer: Signer) -> FalVerifier:
    return FalVerifier(JWKSCache("jwks", 60, fetch=lambda _: signer.jwks()), max_age_s=300)


def test_a_fal_callback_verifies_and_reads_as_the_end_of_its_request() -> None:
    signer = Signer()
    body = json.dumps({"request_id": "r1", "status": "OK", "payload": {}}).encode()
    callback = fal_verifier(signer).verify(lower(signer.fal_headers("r1", body)), body)
    assert (callback.request_id, callback.status.state) == ("r1", RemoteState.SUCCEEDED)
    failed = json.dumps({"request_id": "r1", "status": "ERROR", "error": "boom"}).encode()
    callback = fal_verifier(signer).verify(lower(signer.fal_headers("r1", failed)), failed)
    assert callback.status.state is RemoteState.FAILED


@pytest.mark.parametrize("tamper", ["body", "key", "request", "old"])
def test_a_fal_callback_that_does_not_verify_is_refused(tamper: str) -> None:
    signer, other = Signer(), Signer()
    body = json.dumps({"request_id": "r1", "status": "OK"}).encode()
    headers = lower((other if tamper == "key" else signer).fal_headers("r1", body))
    if tamper == "body":
        body = body.replace(b"OK", b"ERROR")
    if tamper == "request":
        headers["x-fal-webhook-request-id"] = "r2"
    if tamper == "old":
        stamp = str(int(time.time()) - 3600)
        headers["x-fal-webhook-timestamp"] = stamp
        signed = "\n".join(["r1", "emulator-user", stamp, hashlib.sha256(body).hexdigest()])
        headers["x-fal-webhook-signature"] = signer.fal_key.sign(signed.encode()).hex()
    with pytest.raises(CallbackRefused):
        fal_verifier(signer).verify(headers, body)


def test_the_jwks_is_refetched_once_for_an_unknown_signer() -> None:
    keys = [Signer(), Signer()]
    fetched: list[int] = []

    def fetch(_: str) -> object:
        fetched.append(1)
        return keys[len(fetched) - 1 if len(fetched) <= 2 else 1].jwks()

    cache = JWKSCache("jwks", 3600, fetch=fetch)
    cache.keys()
    cache._fetched_at -= 120  # a rotation, noticed past the refresh floor
    verifier = FalVerifier(cache, max_age_s=300)
    body = json.dumps({"request_id": "r1", "status": "OK"}).encode()
    assert verifier.verify(lower(keys[1].fal_headers("r1", body)), body).request_id == "r1"
    assert len(fetched) == 2


def test_a_replicate_callback_verifies_as_standard_webhooks() -> None:
    signer = Signer()
    verifier = ReplicateVerifier(signer.replicate_secret, max_age_s=300)
    body = json.dumps({"id": "p1", "status": "succeeded", "output": "u"}).encode()
    callback = verifier.verify(signer.replicate_headers("msg_1", body), body)
    assert (callback.request_id, callback.status.state) == ("p1", RemoteState.SUCCEEDED)
    with pytest.raises(CallbackRefused):
        verifier.verify(signer.replicate_headers("msg_1", body), body + b" ")
    with pytest.raises(CallbackRefused):
        ReplicateVerifier(Signer().replicate_secret, max_age_s=300).verify(
            signer.replicate_headers("msg_1", body), body
        )
