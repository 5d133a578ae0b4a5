"""Every emulated fault kind, through every adapter: retryable or permanent, never leaking keys."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from emulator.config import EARLY_FAULTS, FaultKind
from emulator.testing import EmulatorServer
from tests.provider.conftest import model_input
from workers.errors import ProviderError, RetryableProviderError

MakeAdapter = Callable[..., Any]


def assert_no_secret(error: ProviderError, secret: str) -> None:
    for text in (str(error), error.message, repr(error.details), repr(error)):
        assert secret not in text


class TestFaults:
    @pytest.mark.parametrize("kind", list(FaultKind))
    def test_submit_fault_is_retryable(
        self,
        kind: FaultKind,
        adapter_name: str,
        make_adapter: MakeAdapter,
        default_model: dict[str, str],
        configure: Callable[..., None],
        emulator: EmulatorServer,
        api_key: str,
    ) -> None:
        model = default_model[adapter_name]
        configure(model=model, fault_rate=1.0, faults=[str(kind)])
        # Shorter than the emulator's 1.5 s "timeout" hold, longer than any honest answer.
        adapter = make_adapter(adapter_name, timeout=0.5)

        with pytest.raises(RetryableProviderError) as caught:
            adapter.submit(
                model, adapter.build_payload(model, model_input(model, {"prompt": "hello"}))
            )

        assert_no_secret(caught.value, api_key)
        if kind is FaultKind.THROTTLED:
            assert caught.value.retry_after_s == 7  # the emulator's Retry-After
            assert caught.value.code == "provider_throttled"
        else:
            assert caught.value.retry_after_s is None
        # Early faults refuse the request; late ones lose the answer to a request that took
        # effect, which is why a blind resubmit could pay twice.
        created = emulator.ctx.store.submissions.get(model, 0)
        assert created == (0 if kind in EARLY_FAULTS else 1)
        assert emulator.ctx.store.attempts[model] == 1

    @pytest.mark.parametrize("kind", [FaultKind.THROTTLED, FaultKind.DROP, FaultKind.MALFORMED])
    def test_status_fault_is_retryable(
        self,
        kind: FaultKind,
        adapter_name: str,
        make_adapter: MakeAdapter,
        default_model: dict[str, str],
        configure: Callable[..., None],
    ) -> None:
        model = default_model[adapter_name]
        adapter = make_adapter(adapter_name)
        sub = adapter.submit(
            model, adapter.build_payload(model, model_input(model, {"prompt": "hello"}))
        )
        configure(model=model, fault_rate=1.0, faults=[str(kind)])
        with pytest.raises(RetryableProviderError):
            adapter.status(model, sub)
        configure(model=model, fault_rate=0.0)
        assert adapter.status(model, sub).state is not None

    def test_fault_rate_applies_to_some_requests_only(
        self, make_adapter: MakeAdapter, configure: Callable[..., None]
    ) -> None:
        configure(model="fal-ai/ltx-video", fault_rate=0.5, faults=["503"])
        adapter = make_adapter("fal")
        outcomes = []
        for _ in range(40):
            try:
                adapter.submit("fal-ai/ltx-video", {"prompt": "p"})
                outcomes.append(True)
            except RetryableProviderError:
                outcomes.append(False)
        assert 5 < sum(outcomes) < 35

    def test_unreachable_provider_is_retryable(self) -> None:
        from workers.provider.fal import FalProvider

        adapter = FalProvider("k-SECRET", base_url="http://127.0.0.1:9", timeout=1.0)
        with pytest.raises(RetryableProviderError) as caught:
            adapter.submit("fal-ai/ltx-video", {"prompt": "p"})
        assert_no_secret(caught.value, "k-SECRET")
