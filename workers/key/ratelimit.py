"""Requests per minute per key: a token bucket shared by every API process.

The bucket holds up to `rpm` tokens and refills at `rpm` per minute; a request takes one.
On the server path it lives in Redis and is taken by one Lua script, atomic across API
processes and timed by Redis's own clock; on the embedded default (no Redis) it is a row
of `rate_buckets`, taken under the row's lock.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache

import redis
from redis.commands.core import Script
from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.db.upsert import insert
from workers.key.models import RateBucket
from workers.settings import get_settings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Decision:
    allowed: bool
    limit: int  # requests per minute
    remaining: int  # whole tokens left after this request
    reset_s: float  # until the bucket is full again
    retry_after_s: float  # until one token is back (0 when allowed)


# KEYS[1]: the bucket; ARGV: capacity, tokens per millisecond. Returns allowed, tokens left
# (×1000, to keep the fraction through Redis's integer replies), ms until a token is back.
_TAKE = """
local capacity = tonumber(ARGV[1])
local rate = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = t[1] * 1000 + math.floor(t[2] / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'at')
local tokens = tonumber(state[1]) or capacity
local at = tonumber(state[2]) or now
tokens = math.min(capacity, tokens + math.max(0, now - at) * rate)
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'at', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(capacity / rate) + 1000)
local wait = 0
if allowed == 0 then wait = math.ceil((1 - tokens) / rate) end
return {allowed, math.floor(tokens * 1000), wait}
"""


@lru_cache(maxsize=1)
def _redis_script() -> Script | None:
    url = get_settings().rate_limit_redis_url
    if not url:
        return None
    client: redis.Redis[bytes] = redis.Redis.from_url(url, socket_timeout=2)
    return client.register_script(_TAKE)  # sent once, then run by its hash


def take(bucket: str, *, rpm: int) -> Decision:
    """Take one request from `bucket` (one per key) that allows `rpm` per minute."""
    script = _redis_script()
    if script is not None:
        key = f"{get_settings().broker_key_prefix}ratelimit:{bucket}"
        try:
            allowed, left_milli, wait_ms = script(keys=[key], args=[rpm, rpm / 60_000])
        except redis.RedisError as exc:
            # A limit is protection, not correctness: while Redis is away, admit and say so.
            log.warning("ratelimit.redis_unavailable bucket=%s error=%s", bucket, exc)
            return _decision(True, rpm, rpm - 1, 0.0)
        return _decision(bool(allowed), rpm, int(left_milli) / 1000, int(wait_ms) / 1000)
    with session_scope() as session:
        return _take_in_database(session, bucket, rpm=rpm, now=utcnow())


def _take_in_database(session: Session, bucket: str, *, rpm: int, now: datetime) -> Decision:
    rate = rpm / 60  # tokens per second
    session.execute(
        insert(session, RateBucket)
        .values(bucket=bucket, tokens=float(rpm), updated_at=now)
        .on_conflict_do_nothing()
    )
    row = session.execute(
        select(RateBucket).where(RateBucket.bucket == bucket).with_for_update()
    ).scalar_one()
    elapsed = max(0.0, (now - row.updated_at).total_seconds())
    tokens = min(float(rpm), row.tokens + elapsed * rate)
    allowed = tokens >= 1
    if allowed:
        tokens -= 1
    row.tokens, row.updated_at = tokens, now
    wait = 0.0 if allowed else (1 - tokens) / rate
    return _decision(allowed, rpm, tokens, wait)


def _decision(allowed: bool, rpm: int, tokens: float, wait_s: float) -> Decision:
    return Decision(
        allowed=allowed,
        limit=rpm,
        remaining=math.floor(tokens),
        reset_s=(rpm - tokens) / (rpm / 60),
        retry_after_s=wait_s,
    )
