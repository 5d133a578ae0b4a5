"""Providers' callbacks in: the shared shapes (protocol only; no database, no Celery).

fal and Replicate can call a URL of ours when a request ends. An adapter that can ask for
that offers `submit_with_callback`; the callback's body is verified and read by the
provider's own module (`fal_callback`, `replicate_callback`) into a `Callback`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from workers.provider.base import RemoteStatus, Submission

# The providers whose jobs are submitted with a callback when PROVIDER_CALLBACKS is on.
CALLBACK_PROVIDERS = frozenset({"fal", "replicate"})


class CallbackRefused(Exception):
    """The callback's signature (or its timestamp, or its shape) does not verify."""


@dataclass(frozen=True)
class Callback:
    """What a verified callback says: which request, and how it ended."""

    request_id: str
    status: RemoteStatus


@runtime_checkable
class AcceptsCallbacks(Protocol):
    """Optional capability of a `HostedProvider`: submit asking to be called back."""

    def submit_with_callback(
        self, model: str, payload: dict[str, Any], callback_url: str
    ) -> Submission: ...


class Verifier(Protocol):
    def verify(self, headers: Mapping[str, str], body: bytes) -> Callback:
        """The callback, if `headers` sign `body`; raises `CallbackRefused` otherwise."""
        ...
