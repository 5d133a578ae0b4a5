"""Which adapter serves which provider, built once per process from settings.

The only module that reads provider keys: adapters get their key in the constructor and
nothing else ever sees it (not task arguments, not rows, not logs).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pydantic import SecretStr

from workers.provider.base import HostedProvider, OutputFile
from workers.provider.fal import FalProvider
from workers.provider.gemini_veo import GeminiVeoProvider
from workers.provider.openai_videos import OpenAIVideosProvider
from workers.provider.replicate import ReplicateProvider
from workers.settings import Settings, get_settings


class Adapter(HostedProvider, Protocol):
    def build_payload(self, model: str, model_input: dict[str, Any]) -> dict[str, Any]: ...

    def download(self, output: OutputFile, dest: Path) -> None: ...

    def close(self) -> None: ...


@dataclass(frozen=True)
class HostedSpec:
    key_setting: str  # the environment variable a user sets
    key: Callable[[Settings], SecretStr | None]
    base_url: Callable[[Settings], str]
    factory: Callable[..., Adapter]


HOSTED: dict[str, HostedSpec] = {
    "fal": HostedSpec("FAL_KEY", lambda s: s.fal_key, lambda s: s.fal_base_url, FalProvider),
    "openai": HostedSpec(
        "OPENAI_API_KEY",
        lambda s: s.openai_api_key,
        lambda s: s.openai_base_url,
        OpenAIVideosProvider,
    ),
    "gemini": HostedSpec(
        "GEMINI_API_KEY",
        lambda s: s.gemini_api_key,
        lambda s: s.gemini_base_url,
        GeminiVeoProvider,
    ),
    "replicate": HostedSpec(
        "REPLICATE_API_TOKEN",
        lambda s: s.replicate_api_token,
        lambda s: s.replicate_base_url,
        ReplicateProvider,
    ),
}

_adapters: dict[str, Adapter] = {}


def missing_key(provider: str, settings: Settings | None = None) -> str | None:
    """The setting to set before `provider` can run, or None when it is configured."""
    spec = HOSTED.get(provider)
    if spec is None:
        return None
    key = spec.key(settings or get_settings())
    return None if key is not None and key.get_secret_value() else spec.key_setting


def adapter_for(provider: str) -> Adapter:
    """This process's adapter for `provider` (one HTTP connection pool each)."""
    adapter = _adapters.get(provider)
    if adapter is None:
        settings = get_settings()
        spec = HOSTED[provider]
        key = spec.key(settings)
        if key is None or not key.get_secret_value():
            raise LookupError(f"{spec.key_setting} is not set")
        adapter = spec.factory(
            key.get_secret_value(), spec.base_url(settings), timeout=settings.provider_timeout_s
        )
        _adapters[provider] = adapter
    return adapter


def reset_adapters() -> None:
    """Close every adapter (after a fork, or when tests change settings)."""
    for adapter in _adapters.values():
        adapter.close()
    _adapters.clear()
