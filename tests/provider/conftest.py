"""Fixtures for the adapter tests: one emulator on a free loopback port for the session.

Independent of any other conftest: no Postgres, no Redis.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from emulator.config import EmulatorConfig, ModelSettings
from emulator.testing import EmulatorServer
from workers.catalog.registry import all_models
from workers.catalog.validation import normalize_input
from workers.catalog.wire import to_wire
from workers.provider.fal import FalProvider
from workers.provider.gemini_veo import GeminiVeoProvider
from workers.provider.openai_videos import OpenAIVideosProvider
from workers.provider.replicate import ReplicateProvider

API_KEY = "sk-test-SECRET-4242"
# Short provider states keep the suite fast; 4 fps keeps rendering cheap.
SETTINGS = ModelSettings(queue_s=0.3, generation_s=0.4, fps=4, retry_after_s=7, timeout_s=1.5)


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    with EmulatorServer(EmulatorConfig(defaults=SETTINGS, api_key=API_KEY, seed=1)) as server:
        yield server


@pytest.fixture(autouse=True)
def _fresh_emulator(emulator: EmulatorServer) -> Iterator[None]:
    emulator.ctx.reset()
    yield
    emulator.ctx.reset()


@pytest.fixture
def configure(emulator: EmulatorServer) -> Callable[..., None]:
    """Change emulator settings over its control API, as a user would."""
    return emulator.configure


Adapter = FalProvider | ReplicateProvider | OpenAIVideosProvider | GeminiVeoProvider

# name → (adapter class, path under the emulator's URL, a model of that provider)
ADAPTERS: dict[str, tuple[type[Adapter], str, str]] = {
    "fal": (FalProvider, "", "fal-ai/ltx-video"),
    "replicate": (ReplicateProvider, "/v1", "minimax/video-01"),
    "openai": (OpenAIVideosProvider, "/v1", "sora-2"),
    "gemini": (GeminiVeoProvider, "/v1beta", "veo-3.1-generate-preview"),
}


@pytest.fixture
def api_key() -> str:
    return API_KEY


@pytest.fixture
def make_adapter(emulator: EmulatorServer) -> Iterator[Callable[..., Any]]:
    """`make_adapter(name, key=..., timeout=...)` → an adapter pointed at the emulator."""
    made: list[Adapter] = []

    def build(name: str, *, key: str = API_KEY, timeout: float = 5.0) -> Adapter:
        cls, suffix, _ = ADAPTERS[name]
        adapter: Adapter = cls(key, base_url=emulator.url + suffix, timeout=timeout)
        made.append(adapter)
        return adapter

    yield build
    for adapter in made:
        adapter.close()


@pytest.fixture
def default_model() -> dict[str, str]:
    return {name: model for name, (_, _, model) in ADAPTERS.items()}


@pytest.fixture(params=sorted(ADAPTERS))
def adapter_name(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def model_input(model: str, raw: dict[str, Any]) -> dict[str, Any]:
    """`raw` (our vocabulary) as the model's own fields, by the catalog entry whose wire id
    is `model`, as a job would send it; a model outside the catalog takes `raw` as it is."""
    spec = next((s for s in all_models() if s.provider_model == model), None)
    if spec is None:
        return dict(raw)
    return to_wire(spec, normalize_input(spec, raw))
