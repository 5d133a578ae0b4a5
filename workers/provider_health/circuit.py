"""Per-provider circuit breaker, kept in the database so it holds across processes and hosts.

The circuit opens after `CIRCUIT_FAILURE_THRESHOLD` transient failures in a row and stays
open `CIRCUIT_OPEN_S`; while open, that provider's jobs wait in our queue. Once it has
passed, calls go through again; the first failure re-opens it (the failure count only
resets on a success), so a still-broken provider sees one probe. Functions here flush only.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workers.db.base import utcnow
from workers.db.upsert import insert
from workers.provider_health.models import ProviderHealth

log = logging.getLogger(__name__)


def _ensure_row(session: Session, provider: str) -> None:
    """Insert the provider's row if missing, racing other processes safely."""
    values = {"provider": provider, "consecutive_failures": 0, "updated_at": utcnow()}
    session.execute(insert(session, ProviderHealth).values(**values).on_conflict_do_nothing())


def record_failure(
    session: Session, provider: str, *, error: str, threshold: int, open_s: float
) -> bool:
    """Count a transient failure; True when this one opened the circuit."""
    _ensure_row(session, provider)
    row = session.execute(
        select(ProviderHealth).where(ProviderHealth.provider == provider).with_for_update()
    ).scalar_one()
    now = utcnow()
    row.consecutive_failures += 1
    row.last_error = error
    row.updated_at = now
    was_open = row.opened_until is not None and row.opened_until > now
    if row.consecutive_failures >= threshold and not was_open:
        row.opened_until = now + timedelta(seconds=open_s)
        log.warning(
            "provider.circuit_opened provider=%s failures=%s for_s=%s error=%s",
            provider,
            row.consecutive_failures,
            open_s,
            error,
        )
        return True
    return False


def record_success(session: Session, provider: str) -> None:
    """Close the circuit; touches no row (takes no lock) when it was already healthy."""
    result = session.execute(
        update(ProviderHealth)
        .where(ProviderHealth.provider == provider, ProviderHealth.consecutive_failures > 0)
        .values(consecutive_failures=0, opened_until=None, updated_at=utcnow())
    )
    if result.rowcount:  # type: ignore[attr-defined]
        log.info("provider.circuit_closed provider=%s", provider)


@dataclass(frozen=True)
class Wait:
    """Why a provider's new job must wait in our queue, and for how long."""

    seconds: float
    reason: str


def open_wait(session: Session, provider: str) -> Wait | None:
    """How long the provider's circuit stays open; None when it is closed."""
    row = session.get(ProviderHealth, provider)
    now = utcnow()
    if row is not None and row.opened_until is not None and row.opened_until > now:
        return Wait((row.opened_until - now).total_seconds(), "circuit_open")
    return None


@dataclass(frozen=True)
class CircuitView:
    provider: str
    circuit: str  # "closed" or "open"
    opened_until: datetime | None
    consecutive_failures: int
    last_error: str | None


def view(session: Session, provider: str) -> CircuitView:
    row = session.get(ProviderHealth, provider)
    now = utcnow()
    is_open = row is not None and row.opened_until is not None and row.opened_until > now
    return CircuitView(
        provider=provider,
        circuit="open" if is_open else "closed",
        opened_until=row.opened_until if is_open and row else None,
        consecutive_failures=row.consecutive_failures if row else 0,
        last_error=row.last_error if row else None,
    )
