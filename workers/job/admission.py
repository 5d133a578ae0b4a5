"""Whether an owner may add one more job now: the key's cap on jobs in flight, and its
budget for the current period.

Both are read and decided under the key's row lock, so concurrent submissions with one key,
in any number of API processes, take turns and never overshoot together (on Postgres; on
SQLite one writer at a time gives the same). A caller without a key (auth disabled,
internal jobs) has no limits.

The budget reserves each job's estimated cost at submission; when the job ends its actual
cost replaces the estimate (`state/cost.py`): a failed or canceled job gives its
reservation back unless its provider charged for it.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.catalog.registry import get_model
from workers.errors import NotFound, OverBudget, TooManyInFlight
from workers.job import repository
from workers.job.usage import reserved_and_spent
from workers.key.caller import Caller
from workers.key.models import ApiKey

ROUNDING_USD = 1e-9  # float sums of micro-dollars: a spend equal to the budget is within it


def admit(session: Session, caller: Caller, *, estimate_usd: float, now: datetime) -> None:
    """Raise `TooManyInFlight` or `OverBudget` when the caller's key may not add a job
    estimated at `estimate_usd`; otherwise hold the key's row until the transaction ends,
    so the new job counts for the next caller."""
    if caller.key_id is None or (caller.max_in_flight is None and caller.budget_usd is None):
        return
    session.execute(select(ApiKey.id).where(ApiKey.id == caller.key_id).with_for_update())
    if caller.max_in_flight is not None:
        count = repository.in_flight_of(session, caller.owner)
        if count >= caller.max_in_flight:
            wait_s = _until_one_ends(session, caller.owner, now)
            raise TooManyInFlight(
                f"this key allows {caller.max_in_flight} jobs queued or running at once and "
                f"has {count}; wait for one to finish (about {wait_s:.0f} s) or cancel one",
                retry_after_s=wait_s,
            )
    if caller.budget_usd is not None:
        start, resets = caller.period(now)
        spent = reserved_and_spent(session, owner=caller.owner, since=start)
        if spent + estimate_usd > caller.budget_usd + ROUNDING_USD:
            raise OverBudget(
                f"this job (estimated ${estimate_usd:.4f}) would take the key past its budget "
                f"of ${caller.budget_usd:.2f} per {caller.budget_period_days} d: "
                f"${spent:.4f} is spent or reserved since {start:%Y-%m-%d %H:%M} UTC; the "
                f"period resets at {resets:%Y-%m-%d %H:%M} UTC"
            )


def _until_one_ends(session: Session, owner: str, now: datetime) -> float:
    """When the owner's oldest job in flight should end, by its model's typical latency:
    the `Retry-After` of a refusal (1–60 s)."""
    oldest = repository.oldest_in_flight(session, owner)
    if oldest is None:
        return 1.0
    model, created_at = oldest
    try:
        typical = get_model(model).typical_latency_s
    except NotFound:
        typical = 1.0
    return min(60.0, max(1.0, typical - (now - created_at).total_seconds()))
