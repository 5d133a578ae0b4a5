"""What stands now: jobs in flight per provider and per key, and each circuit's state."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workers.job.models import Job
from workers.job.status import JobStatus
from workers.provider.registry import HOSTED
from workers.provider_health import circuit
from workers.webhook.models import WebhookDelivery

OTHER = "other"


@dataclass
class Gauges:
    in_flight: dict[tuple[str, str], int]  # (provider, queued|running) → jobs
    in_flight_by_key: dict[str, int]  # the key's owner (a key's name by default) → jobs
    circuits: list[circuit.CircuitView]
    webhook_deliveries: dict[str, int]  # state (pending, delivered, failed) → deliveries


def read(session: Session, *, top_keys: int) -> Gauges:
    """Counts from the index on (status, …): only the unfinished rows are visited."""
    unfinished = Job.status.in_((JobStatus.QUEUED, JobStatus.RUNNING))
    by_provider = session.execute(
        select(Job.provider, Job.status, func.count())
        .where(unfinished)
        .group_by(Job.provider, Job.status)
    )
    in_flight = {(provider, status): int(n) for provider, status, n in by_provider}
    owners = Counter(
        {
            owner: int(n)
            for owner, n in session.execute(
                select(Job.owner, func.count()).where(unfinished).group_by(Job.owner)
            )
        }
    )
    deliveries = session.execute(
        select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state)
    )
    return Gauges(
        in_flight=in_flight,
        in_flight_by_key=bounded(owners, top_keys),
        circuits=[circuit.view(session, name) for name in HOSTED],
        webhook_deliveries={state: int(n) for state, n in deliveries},
    )


def bounded(counts: Counter[str], top: int) -> dict[str, int]:
    """The `top` largest counts by name, the rest summed as `other`: a bounded label set
    however many keys exist."""
    kept = dict(counts.most_common(top))
    rest = sum(n for name, n in counts.items() if name not in kept)
    if rest:
        kept[OTHER] = kept.get(OTHER, 0) + rest
    return kept
