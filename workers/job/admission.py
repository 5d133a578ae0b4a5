"""Whether an owner may add one more job now: the key's cap on jobs in flight, and its
budget for the current period.

Both are read and decided under the key's row lock, so concurrent submissions with one key,
in any number of API processes, take turns and never overshoot together (on Postgres; on
SQLite one writer at a time gives the same). A caller without a key (auth disabled,
internal jobs) has no limits.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.errors import TooManyInFlight
from workers.job import repository
from workers.key.caller import Caller
from workers.key.models import ApiKey


def admit(session: Session, caller: Caller, *, now: datetime) -> None:
    """Raise `TooManyInFlight` when the caller's key is at its cap; otherwise hold the
    key's row until the transaction ends, so the new job counts for the next caller."""
    if caller.key_id is None or (caller.max_in_flight is None and caller.budget_usd is None):
        return
    session.execute(select(ApiKey.id).where(ApiKey.id == caller.key_id).with_for_update())
    if caller.max_in_flight is not None:
        count = repository.in_flight_of(session, caller.owner)
        if count >= caller.max_in_flight:
            raise TooManyInFlight(
                f"this key allows {caller.max_in_flight} jobs queued or running at once and "
                f"has {count}; wait for one to finish or cancel one"
            )
