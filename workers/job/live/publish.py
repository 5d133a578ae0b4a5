"""Publishing to live subscribers, from any process: never a database write, and never an
error for the caller (a publish that fails is logged; subscribers repair it from the log).

On the server path everything goes through Redis pub/sub, one channel per job. The embedded
default has no Redis: subscribers tail the event table instead, and progress estimates go
to one small file per job under `var/live/`, replaced at each update (the latest is all a
subscriber needs).
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import uuid
from pathlib import Path
from typing import Any

import redis
from sqlalchemy.orm import Session

from workers.db import outbox
from workers.settings import get_settings

log = logging.getLogger(__name__)

_PENDING = "abstrakt.live_events"
_client: redis.Redis[bytes] | None = None
_resolved = False


def channel(job_id: uuid.UUID | str) -> str:
    return f"{get_settings().broker_key_prefix}live:{job_id}"


def progress_file(job_id: uuid.UUID | str) -> Path:
    return get_settings().live_dir / f"{job_id}.json"


def get_client() -> redis.Redis[bytes] | None:
    """The process's live Redis, or None on the embedded default (made once)."""
    global _client, _resolved
    if not _resolved:
        url = get_settings().live_redis_url
        _client = redis.Redis.from_url(url, socket_timeout=0.5) if url else None
        _resolved = True
    return _client


def event_after_commit(
    session: Session, job_id: uuid.UUID, seq: int, type_: str, payload: dict[str, Any]
) -> None:
    """Publish a log event once its transaction commits: all of a transaction's events go
    in one round trip, in order."""
    if get_client() is None:
        return  # the embedded hub tails the table
    transaction = session.get_transaction()
    held = session.info.get(_PENDING)
    if held is None or held[0] is not transaction:  # the first event of this transaction
        bodies: list[bytes] = []
        session.info[_PENDING] = (transaction, bodies)
        outbox.after_commit(
            session, outbox.Action(run=lambda: _send(bodies), describe="live.publish")
        )
    else:
        bodies = held[1]
    body = {"job_id": str(job_id), "seq": seq, "type": type_, "payload": payload}
    bodies.append(json.dumps(body, default=str).encode())


def _send(bodies: list[bytes]) -> None:
    client = get_client()
    if client is None or not bodies:
        return
    pipe = client.pipeline(transaction=False)
    for body in bodies:
        pipe.publish(channel(json.loads(body)["job_id"]), body)
    try:
        pipe.execute()
    except redis.RedisError as exc:
        log.warning("live.publish_failed events=%s error=%s", len(bodies), exc)


def progress(job_id: uuid.UUID, phase: str, value: int, **extra: Any) -> None:
    """Publish a progress estimate or a provider's signal (0–99) for `job_id`."""
    body = {"job_id": str(job_id), "phase": phase, "progress": value, **extra}
    data = json.dumps(body).encode()
    client = get_client()
    try:
        if client is not None:
            client.publish(channel(job_id), data)
        else:
            _replace(progress_file(job_id), data)
    except (redis.RedisError, OSError) as exc:
        log.warning("live.publish_failed job_id=%s error=%s", job_id, exc)


def _replace(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".progress-")
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def forget(job_id: uuid.UUID) -> None:
    """Remove a finished job's progress file (the embedded default's only leftover)."""
    if get_client() is None:
        progress_file(job_id).unlink(missing_ok=True)
