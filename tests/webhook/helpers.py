from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select

from workers.db.engine import session_scope
from workers.job import producer
from workers.job.schemas import JobCreate
from workers.job.tasks import generate
from workers.key.caller import ANONYMOUS, Caller
from workers.webhook import send
from workers.webhook.models import DeliveryState, WebhookDelivery
from workers.webhook.reader import job_webhooks
from workers.webhook.send import Result


def submit_with_webhook(
    url: str | None,
    events: list[str] | None = None,
    *,
    caller: Caller = ANONYMOUS,
    run: bool = True,
    model: str = "local/image",
) -> uuid.UUID:
    """Submit a fresh job naming `url` (None: the key's default) and, with `run`, run it to
    its end in this process."""
    request = JobCreate.model_validate(
        {
            "model": model,
            "input": {"prompt": f"a webhook test {uuid.uuid4().hex[:6]}"},
            "cache": False,
            "webhook_url": url,
            "webhook_events": events,
        }
    )
    job_id = producer.submit(request, caller=caller).id
    if run:
        generate.run(str(job_id))
    return job_id


def pending_ids(job_id: uuid.UUID | None = None) -> list[uuid.UUID]:
    with session_scope() as session:
        query = select(WebhookDelivery.id).where(WebhookDelivery.state == DeliveryState.PENDING)
        if job_id is not None:
            query = query.where(WebhookDelivery.job_id == job_id)
        return list(session.scalars(query.order_by(WebhookDelivery.created_at)))


def deliver_all(rounds: int = 10) -> list[Result]:
    """Attempt every pending delivery that is due, again and again while attempts happen
    (retries in these tests are due at once), as the delivery worker would."""
    results: list[Result] = []
    for _ in range(rounds):
        made = [send.deliver(i) for i in pending_ids()]
        results += [r for r in made if r is not Result.SKIPPED]
        if all(r is Result.SKIPPED for r in made):
            break
    return results


def log_of(job_id: uuid.UUID, owner: str | None = None) -> dict[str, Any]:
    with session_scope() as session:
        return job_webhooks(session, job_id, owner=owner).model_dump(mode="json")
