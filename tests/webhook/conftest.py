"""Webhook tests: a real receiver on loopback, which WEBHOOK_ALLOWLIST lets through."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.webhook.receiver import Receiver
from workers.settings import get_settings


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """Loopback is refused like any private address unless allowlisted, as here."""
    monkeypatch.setattr(get_settings(), "webhook_allowlist", "127.0.0.1/32")


@pytest.fixture
def no_allowlist(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(get_settings(), "webhook_allowlist", "")


@pytest.fixture
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """Three retries, each due at once: a test calls the delivery again itself."""
    monkeypatch.setattr(get_settings(), "webhook_retry_schedule_s", [0.0, 0.0, 0.0])
    monkeypatch.setattr(get_settings(), "webhook_timeout_s", 1.0)
