"""Per-provider circuit breaker and concurrency limit, shared by every worker and poller.

Kept in the database (one row per provider), so it holds across processes and hosts and on
the embedded default alike. The circuit opens after `CIRCUIT_FAILURE_THRESHOLD` transient
failures in a row and stays open `CIRCUIT_OPEN_S`; while open, that provider's jobs wait
in our queue. Once it has passed, calls go through again; the first failure re-opens it
(the failure count only resets on a success), so a still-broken provider sees one probe.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Integer, String, Text, func, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Mapped, Session, mapped_column

from workers.db.base import Base, UTCDateTime, utcnow
from workers.errors import RetryableProviderError
from workers.job.models import Job
from workers.job.status import JobStatus

log = logging.getLogger(__name__)


class ProviderHealth(Base):
    __tablename__ = "provider_health"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    opened_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


def _ensure_row(session: Session, provider: str) -> None:
    """Insert the provider's row if missing, racing other processes safely."""
    dialect = session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    values = {"provider": provider, "consecutive_failures": 0, "updated_at": utcnow()}
    session.execute(insert(ProviderHealth).values(**values).on_conflict_do_nothing())


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


def in_flight(session: Session, provider: str) -> int:
    """Jobs of `provider` submitted (or being submitted) and not yet finished."""
    return int(
        session.scalar(
            select(func.count())
            .select_from(Job)
            .where(
                Job.provider == provider,
                Job.status == JobStatus.RUNNING,
                Job.submit_state.in_(("intent", "submitted")),
            )
        )
        or 0
    )


@dataclass(frozen=True)
class Wait:
    seconds: float
    reason: str


def wait_before_submit(session: Session, provider: str, *, limit: int) -> Wait | None:
    """Why a new job of `provider` must wait, and for how long; None to go ahead.

    The concurrency count is read without a lock: several workers deciding at once may
    overshoot the limit by at most their number, which is the price of not serialising
    every submission on one row.
    """
    row = session.get(ProviderHealth, provider)
    now = utcnow()
    if row is not None and row.opened_until is not None and row.opened_until > now:
        return Wait((row.opened_until - now).total_seconds(), "circuit_open")
    if in_flight(session, provider) >= limit:
        return Wait(2.0, "concurrency_limit")
    return None


@dataclass(frozen=True)
class HealthView:
    provider: str
    circuit: str  # "closed" or "open"
    opened_until: datetime | None
    consecutive_failures: int
    last_error: str | None
    in_flight: int


def view(session: Session, provider: str) -> HealthView:
    row = session.get(ProviderHealth, provider)
    now = utcnow()
    is_open = row is not None and row.opened_until is not None and row.opened_until > now
    return HealthView(
        provider=provider,
        circuit="open" if is_open else "closed",
        opened_until=row.opened_until if is_open and row else None,
        consecutive_failures=row.consecutive_failures if row else 0,
        last_error=row.last_error if row else None,
        in_flight=in_flight(session, provider),
    )


# The healthy path (every status check) must not cost a database round trip: a success is
# written at once for a provider this process saw failing, otherwise at most every
# SUCCESS_SYNC_S, which is how long a circuit other processes' failures left counting may
# go on counting before this process's successes reset it.
SUCCESS_SYNC_S = 5.0
_failing_here: set[str] = set()
_next_success_sync: dict[str, float] = {}


def record_outcome(provider: str, error: RetryableProviderError | None) -> None:
    """One call's outcome, in its own short transaction: success closes, failure counts."""
    from workers.db.engine import session_scope
    from workers.settings import get_settings

    now = time.monotonic()
    if (
        error is None
        and provider not in _failing_here
        and now < _next_success_sync.get(provider, 0.0)
    ):
        return
    _next_success_sync[provider] = now + SUCCESS_SYNC_S
    settings = get_settings()
    with session_scope() as session:
        if error is None:
            record_success(session, provider)
            _failing_here.discard(provider)
        else:
            _failing_here.add(provider)
            record_failure(
                session,
                provider,
                error=error.code,
                threshold=settings.circuit_failure_threshold,
                open_s=settings.circuit_open_s,
            )
