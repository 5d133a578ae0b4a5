"""Whether each server the system depends on answers: the database, the broker, storage.

Each check is a blocking call that raises when its dependency is down; `describe()` turns
the exception into a short reason for a health report, without hosts or server paths
(`/healthz` needs no key). The caller bounds how long a check may take.
"""

from __future__ import annotations

import os
import uuid

import redis
import sqlalchemy.exc
from sqlalchemy import text

from workers.db.engine import get_engine
from workers.settings import get_settings


def database() -> None:
    with get_engine().connect() as connection:
        connection.execute(text("SELECT 1"))


def broker() -> None:
    """A Redis broker answers a PING; the embedded filesystem broker's folder is writable."""
    settings = get_settings()
    url = settings.broker_url
    if url.startswith(("redis://", "rediss://")):
        timeout = settings.health_check_timeout_s
        client: redis.Redis[bytes] = redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout
        )
        try:
            client.ping()
        finally:
            client.close()
    elif url.startswith("filesystem://"):
        _writable(settings.broker_dir)


def storage() -> None:
    """The storage directory takes a small file (read-only, full or missing refuse it)."""
    _writable(get_settings().storage_dir)


def _writable(directory: os.PathLike[str]) -> None:
    probe = os.path.join(directory, f".health-{uuid.uuid4().hex}")
    with open(probe, "wb") as file:
        file.write(b"ok")
        file.flush()
        os.fsync(file.fileno())
    os.unlink(probe)


CHECKS = {"database": database, "broker": broker, "storage": storage}


def describe(exc: BaseException) -> str:
    """A short reason, safe to show anyone: no host, port or server path."""
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror  # "Read-only file system", "No space left on device", …
    if isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.orig is not None:
        return type(exc.orig).__name__
    return type(exc).__name__
