"""Making, reading and canceling batches. Functions flush; the caller commits."""

from __future__ import annotations

import hashlib
import json
import uuid
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workers.batch import release as releasing
from workers.batch.models import Batch, BatchItem
from workers.batch.schemas import BatchCreate
from workers.catalog.pricing import price_job
from workers.db.base import utcnow
from workers.errors import Conflict, FieldError, InvalidInput, NotFound
from workers.job import admission
from workers.job.state import intake
from workers.key.caller import Caller
from workers.webhook import subscription


@dataclass(frozen=True)
class Created:
    batch: Batch
    created: bool  # False: the idempotency key returned an existing batch


def create(session: Session, request: BatchCreate, *, caller: Caller) -> Created:
    """Validate every item, then add the batch and release its first items; or return the
    batch its idempotency key names. Raises `InvalidInput` naming each bad item's index and
    field (nothing written), `Conflict` for a key reused for other items, or what
    `admission.admit` raises for the whole batch's estimated cost."""
    digest = _hash(request)
    if request.idempotency_key is not None:
        existing = _by_key(session, caller.owner, request.idempotency_key)
        if existing is not None:
            return Created(_same(existing, digest), created=False)
    estimates = _validate(request)
    now = utcnow()
    admission.admit(session, caller, estimate_usd=sum(estimates) / 1_000_000, now=now)
    webhook = subscription.for_batch(request.webhook_url, caller)
    batch = Batch(
        id=uuid.uuid4(),
        owner=caller.owner,
        idempotency_key=request.idempotency_key,
        request_hash=digest,
        item_count=len(request.items),
        key_id=caller.key_id,
        created_at=now,
        webhook_url=webhook.url if webhook else None,
        webhook_signer=webhook.signer if webhook else None,
    )
    try:
        with session.begin_nested():  # begin_nested flushes first: add the row inside it
            session.add(batch)
            session.flush()
    except IntegrityError:
        # The same key's first request committed meanwhile (it held the unique index).
        if batch in session:
            session.expunge(batch)
        assert request.idempotency_key is not None
        existing = _by_key(session, caller.owner, request.idempotency_key)
        if existing is None:
            raise
        return Created(_same(existing, digest), created=False)
    session.add_all(
        BatchItem(
            batch_id=batch.id,
            index=index,
            request=item.model_dump(mode="json", exclude_defaults=True),
            estimated_cost_micros=estimate,
            canceled=False,
        )
        for index, (item, estimate) in enumerate(zip(request.items, estimates, strict=True))
    )
    session.flush()
    releasing.release(session, batch)
    releasing.if_ended(session, batch)  # every item answered from the cache
    return Created(batch, created=True)


def locked(session: Session, batch_id: uuid.UUID, owner: str) -> Batch:
    batch = session.scalars(
        select(Batch).where(Batch.id == batch_id).with_for_update()
    ).one_or_none()
    if batch is None or batch.owner != owner:
        raise NotFound(f"no batch with id {batch_id}")
    return batch


def mark_canceled(session: Session, batch_id: uuid.UUID, *, owner: str) -> list[uuid.UUID]:
    """Cancel the batch: unreleased items never start. Returns its released jobs' ids, for
    the caller to cancel each in a transaction of its own after this one commits (a job
    ending locks its row, then its batch's: canceling under the batch's lock would take
    them the other way round)."""
    batch = locked(session, batch_id, owner)
    if batch.canceled_at is None:
        batch.canceled_at = utcnow()
    items = session.scalars(select(BatchItem).where(BatchItem.batch_id == batch.id)).all()
    released: list[uuid.UUID] = []
    for item in items:
        if item.job_id is None:
            item.canceled = True
        else:
            released.append(item.job_id)
    return released


def _validate(request: BatchCreate) -> list[int]:
    """Each item's estimated cost in micro-dollars; every bad item's errors (and a webhook
    URL that may not be called) at once."""
    errors: list[FieldError] = []
    estimates: list[int] = []
    if request.webhook_url is not None:  # resolved and checked here, before anything is written
        try:
            subscription.checked_url(request.webhook_url)
        except InvalidInput as exc:
            errors.extend(exc.errors)
    for index, item in enumerate(request.items):
        if item.idempotency_key is not None:
            errors.append(
                FieldError(
                    ("items", index, "idempotency_key"),
                    "is not taken per item: the batch's own idempotency_key covers them all",
                )
            )
            continue
        try:
            spec, canonical = intake.validate(item)
        except InvalidInput as exc:
            errors.extend(FieldError(("items", index, *e.loc), e.msg) for e in exc.errors)
            continue
        try:
            estimates.append(price_job(spec, canonical).micros)
        except ValueError:
            estimates.append(0)  # unpriced: the job itself is fine (see state/cost.py)
    if errors:
        raise InvalidInput(errors)
    return estimates


def _by_key(session: Session, owner: str, key: str) -> Batch | None:
    return session.scalars(
        select(Batch).where(Batch.owner == owner, Batch.idempotency_key == key)
    ).one_or_none()


def _same(existing: Batch, digest: str) -> Batch:
    if existing.request_hash != digest:
        raise Conflict(
            f"idempotency_key {existing.idempotency_key!r} was used for a different batch "
            f"({existing.id}); use a new key for new items"
        )
    return existing


def _hash(request: BatchCreate) -> str:
    body = json.dumps(
        [item.model_dump(mode="json") for item in request.items],
        sort_keys=True,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()
