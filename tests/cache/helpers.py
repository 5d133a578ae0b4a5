from __future__ import annotations

import uuid
from typing import Any

import redis
from sqlalchemy import select

from workers.cache.models import CacheEntry
from workers.db.engine import session_scope
from workers.job import repository
from workers.job.models import Job
from workers.job.reader import read_job
from workers.job.schemas import JobRead
from workers.settings import get_settings

VIDEO: dict[str, Any] = {
    "model": "local/video",
    "input": {"prompt": "a red fox in snow", "duration": 1},
}


def job(job_id: uuid.UUID | str) -> Job:
    with session_scope() as session:
        row = repository.get(session, uuid.UUID(str(job_id)))
        assert row is not None
        return row


def read(job_id: uuid.UUID | str) -> JobRead:
    with session_scope() as session:
        return read_job(session, uuid.UUID(str(job_id)))


def entries() -> list[CacheEntry]:
    with session_scope() as session:
        return list(session.execute(select(CacheEntry).order_by(CacheEntry.id)).scalars())


def messages(client: redis.Redis[bytes], queue: str) -> int:
    """Messages waiting in one queue of this run (kombu keeps one list per priority)."""
    name = f"{get_settings().broker_key_prefix}{queue}".encode()
    return sum(
        int(client.llen(key))
        for key in client.scan_iter(match=f"{get_settings().broker_key_prefix}{queue}*")
        if key.split(b"\x06")[0] == name and client.type(key) == b"list"
    )


def drop_redis_copies(client: redis.Redis[bytes]) -> None:
    for key in client.scan_iter(match=f"{get_settings().broker_key_prefix}cache:*"):
        client.delete(key)


def body(**input_: Any) -> dict[str, Any]:
    return {**VIDEO, "input": {**VIDEO["input"], **input_}}
