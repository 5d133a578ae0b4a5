"""Who is calling: an owner, and the limits of the key they called with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta


@dataclass(frozen=True)
class Caller:
    """Who is calling, and the limits of the key they called with."""

    owner: str
    key_id: int | None = None  # None: auth disabled, or an internal caller
    key_name: str | None = None
    rpm: int | None = None
    max_in_flight: int | None = None
    budget_usd: float | None = None
    budget_period_days: int | None = None
    created_at: datetime | None = None
    # The key's default webhook, for jobs that name none (workers/webhook/subscription.py).
    webhook_url: str | None = None
    webhook_events: tuple[str, ...] | None = None

    def period(self, now: datetime) -> tuple[datetime, datetime]:
        """The budget period `now` falls in: periods run back to back from the key's
        creation. Raises on a key without a budget."""
        assert self.budget_period_days is not None
        assert self.created_at is not None
        length = timedelta(days=self.budget_period_days)
        start = self.created_at + length * ((now - self.created_at) // length)
        return start, start + length


ANONYMOUS = Caller(owner="anonymous")  # auth disabled: every caller is this one
