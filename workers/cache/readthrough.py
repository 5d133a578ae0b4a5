"""The Redis read-through layer in front of `cache_entries` on the server path.

Postgres is the truth; Redis holds copies of fresh entries, each expiring with its entry, so
a hit costs one Redis round trip instead of a query. Nothing is invalidated: an entry only
ever gets fresher, and a copy is valid until its own expiry. Without Redis (the embedded
default) every lookup reads Postgres. A Redis that fails is logged and bypassed.
"""

from __future__ import annotations

import json
import logging
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import redis

from workers.settings import get_settings

log = logging.getLogger(__name__)

_client: redis.Redis[bytes] | None = None
_resolved = False


@dataclass(frozen=True)
class Cached:
    """A fresh cached result, safe to use after its session closes."""

    result: dict[str, Any]
    expires_at: datetime
    job_id: uuid.UUID | None


def get_client() -> redis.Redis[bytes] | None:
    """The process's cache Redis, or None when there is none (made once; tests replace it)."""
    global _client, _resolved
    if not _resolved:
        url = get_settings().cache_redis_url
        _client = redis.Redis.from_url(url, socket_timeout=0.5) if url else None
        _resolved = True
    return _client


def _redis_key(scope: str, key: str) -> str:
    # BROKER_KEY_PREFIX namespaces one deployment's (or one test run's) keys in a shared db.
    return f"{get_settings().broker_key_prefix}cache:{scope}:{key}"


def get_fresh(scopes: tuple[str, ...], key: str, now: datetime) -> Cached | None:
    """The first fresh copy among `scopes`, in one round trip; None on a miss."""
    client = get_client()
    if client is None:
        return None
    try:
        values = client.mget([_redis_key(scope, key) for scope in scopes])
    except redis.RedisError as exc:
        log.warning("cache.redis_unavailable op=get error=%s", exc)
        return None
    for raw in values:
        if raw is None:
            continue
        data = json.loads(raw)
        expires_at = datetime.fromtimestamp(data["e"], UTC)
        if expires_at > now:  # never serve past the entry's own expiry, whatever Redis says
            job_id = uuid.UUID(data["j"]) if data["j"] else None
            return Cached(data["r"], expires_at, job_id)
    return None


def put(scope: str, key: str, cached: Cached, now: datetime) -> None:
    client = get_client()
    ttl_ms = int((cached.expires_at - now).total_seconds() * 1000)
    if client is None or ttl_ms <= 0:
        return
    value = json.dumps(
        {
            "r": cached.result,
            "e": cached.expires_at.timestamp(),
            "j": str(cached.job_id) if cached.job_id else None,
        },
        separators=(",", ":"),
    )
    try:
        client.set(_redis_key(scope, key), value, px=ttl_ms)
    except redis.RedisError as exc:
        log.warning("cache.redis_unavailable op=put error=%s", exc)
