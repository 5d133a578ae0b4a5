"""The only writer of API keys, and the check of a presented key.

`authenticate` keeps what it learned for `AUTH_CACHE_S` (5 s by default) per process, so a
request costs no extra query; a revocation therefore takes effect within that time in
every API process.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.errors import Conflict, InvalidInput, NotFound
from workers.key import tokens
from workers.key.caller import Caller
from workers.key.models import ApiKey
from workers.settings import get_settings
from workers.webhook.subscription import checked_events, checked_url

log = logging.getLogger(__name__)

PERIODS = {"1d": 1, "7d": 7, "30d": 30}
LAST_USED_EVERY = timedelta(minutes=1)  # how stale `last_used_at` may be, to save writes


def caller_of(key: ApiKey) -> Caller:
    return Caller(
        owner=key.owner,
        key_id=key.id,
        key_name=key.name,
        rpm=key.rpm,
        max_in_flight=key.max_in_flight,
        budget_usd=key.budget_usd,
        budget_period_days=key.budget_period_days,
        created_at=key.created_at,
        webhook_url=key.webhook_url,
        webhook_events=tuple(key.webhook_events) if key.webhook_events else None,
    )


@dataclass(frozen=True)
class Limits:
    rpm: int | None = None
    max_in_flight: int | None = None
    budget_usd: float | None = None
    budget_period: str | None = None  # "1d", "7d" or "30d"


def _validate(limits: Limits, *, budget_pair: bool) -> None:
    for field, value in (("rpm", limits.rpm), ("max_in_flight", limits.max_in_flight)):
        if value is not None and value < 1:
            raise InvalidInput.at(field, msg=f"{field} must be at least 1 (got {value})")
    if limits.budget_usd is not None and limits.budget_usd < 0:
        raise InvalidInput.at("budget_usd", msg="budget_usd cannot be negative")
    if budget_pair and (limits.budget_usd is None) != (limits.budget_period is None):
        raise InvalidInput.at("budget_period", msg="give --budget-usd and --budget-period together")
    if limits.budget_period is not None and limits.budget_period not in PERIODS:
        allowed = ", ".join(PERIODS)
        raise InvalidInput.at("budget_period", msg=f"budget period must be one of {allowed}")


def create(
    session: Session, *, name: str, owner: str | None = None, limits: Limits = Limits()
) -> tuple[ApiKey, str]:
    """Add a key; returns its row and the token, which is never stored nor shown again."""
    if not name or len(name) > 64:
        raise InvalidInput.at("name", msg="a key's name is 1 to 64 characters")
    _validate(limits, budget_pair=True)
    token = tokens.new_token()
    key = ApiKey(
        name=name,
        owner=owner or name,
        prefix=tokens.shown_part(token),
        hash=tokens.digest(token),
        rpm=limits.rpm,
        max_in_flight=limits.max_in_flight,
        budget_usd=limits.budget_usd,
        budget_period_days=PERIODS[limits.budget_period] if limits.budget_period else None,
        created_at=utcnow(),
    )
    try:
        with session.begin_nested():
            session.add(key)
    except IntegrityError:
        raise Conflict(f"a key named {name!r} exists already; pick another name") from None
    log.info("key.created name=%s owner=%s prefix=%s", key.name, key.owner, key.prefix)
    return key, token


def all_keys(session: Session) -> list[ApiKey]:
    return list(session.scalars(select(ApiKey).order_by(ApiKey.created_at, ApiKey.id)))


def find(session: Session, name_or_prefix: str) -> ApiKey:
    """The key with this name, or the one key whose shown prefix this is."""
    keys = list(
        session.scalars(
            select(ApiKey).where(
                or_(ApiKey.name == name_or_prefix, ApiKey.prefix == name_or_prefix)
            )
        )
    )
    if not keys:
        raise NotFound(f"no key named {name_or_prefix!r} or with that prefix")
    if len(keys) > 1:
        raise Conflict(f"{name_or_prefix!r} matches {len(keys)} keys; use the key's name")
    return keys[0]


def revoke(session: Session, name_or_prefix: str) -> ApiKey:
    key = find(session, name_or_prefix)
    if key.revoked_at is None:
        key.revoked_at = utcnow()
        log.info("key.revoked name=%s prefix=%s", key.name, key.prefix)
    return key


def update_limits(session: Session, name_or_prefix: str, limits: Limits) -> ApiKey:
    """Change the limits given (None leaves one as it is)."""
    _validate(limits, budget_pair=False)
    key = find(session, name_or_prefix)
    if limits.rpm is not None:
        key.rpm = limits.rpm
    if limits.max_in_flight is not None:
        key.max_in_flight = limits.max_in_flight
    if limits.budget_usd is not None:
        key.budget_usd = limits.budget_usd
    if limits.budget_period is not None:
        key.budget_period_days = PERIODS[limits.budget_period]
    if (key.budget_usd is None) != (key.budget_period_days is None):
        raise InvalidInput.at("budget_period", msg="a budget needs both an amount and a period")
    return key


def set_webhook_default(
    session: Session, key: ApiKey, *, url: str | None, events: Sequence[str] | None
) -> ApiKey:
    """Set (or, with no URL, clear) the webhook of the key's jobs that name none; the URL
    is vetted as a job's is (`InvalidInput` naming `webhook_url`)."""
    if url is None and events:
        raise InvalidInput.at("webhook_events", msg="events need a webhook_url")
    key.webhook_url = checked_url(url) if url is not None else None
    key.webhook_events = [str(e) for e in checked_events(events)] if url is not None else None
    log.info("key.webhook_default name=%s set=%s", key.name, url is not None)
    return key


def get(session: Session, key_id: int) -> ApiKey:
    key = session.get(ApiKey, key_id)
    if key is None:
        raise NotFound(f"no key with id {key_id}")
    return key


# ── authentication ─────────────────────────────────────────────────────────────────────

_known: dict[str, tuple[Caller | None, float]] = {}
_known_lock = threading.Lock()


def authenticate(token: str) -> Caller | None:
    """The caller a presented key stands for; None for an unknown or revoked key."""
    if not tokens.looks_like_key(token):
        return None
    digest = tokens.digest(token)
    now = time.monotonic()
    with _known_lock:
        known = _known.get(digest)
    if known is not None and known[1] > now:
        return known[0]
    caller = _load(digest)
    with _known_lock:
        if len(_known) > 10_000:  # unknown keys must not grow it without bound
            _known.clear()
        _known[digest] = (caller, now + get_settings().auth_cache_s)
    return caller


def forget_cached_keys() -> None:
    """Drop what `authenticate` remembers (tests; a CLI process that just changed a key)."""
    with _known_lock:
        _known.clear()


def _load(digest: str) -> Caller | None:
    now = utcnow()
    with session_scope() as session:
        key = session.scalar(select(ApiKey).where(ApiKey.hash == digest))
        if key is None or key.revoked_at is not None:
            return None
        session.execute(
            update(ApiKey)
            .where(
                ApiKey.id == key.id,
                or_(ApiKey.last_used_at.is_(None), ApiKey.last_used_at < now - LAST_USED_EVERY),
            )
            .values(last_used_at=now)
        )
        return caller_of(key)
