"""Telling a dependency that is away from a bug, and saying so once per outage.

A database or broker that cannot be reached is a condition to wait out, not an error of
the work at hand: the processes back off and carry on (`is_unavailable` decides which
exceptions mean that). `Outage` logs the first failure of an outage as a warning and the
recovery once, with how long it lasted, whatever number of attempts happened in between.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import exc as sa_exc

log = logging.getLogger(__name__)

_DB_UNAVAILABLE: tuple[type[BaseException], ...] = (
    sa_exc.OperationalError,  # refused, reset, server gone, statement canceled
    sa_exc.InterfaceError,  # a connection closed under us
    sa_exc.TimeoutError,  # no pooled connection came free
    sa_exc.DisconnectionError,
    sa_exc.PendingRollbackError,  # a session whose connection died mid-transaction
)


def _broker_unavailable() -> tuple[type[BaseException], ...]:
    from kombu.exceptions import OperationalError as KombuOperationalError
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    return (KombuOperationalError, RedisConnectionError, RedisTimeoutError, ConnectionError)


def is_unavailable(exc: BaseException) -> bool:
    """Whether `exc` (or what caused it) says the database or broker cannot be reached."""
    kinds = _DB_UNAVAILABLE + _broker_unavailable()
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, kinds):
            return True
        if isinstance(current, sa_exc.DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False


class Outage:
    """One dependency's outage as this process sees it: `failed` on each failed attempt,
    `recovered` on each success; each logs only when the state changes."""

    def __init__(self, name: str) -> None:
        self.name = name
        self._since: float | None = None
        self._lock = threading.Lock()

    @property
    def down(self) -> bool:
        return self._since is not None

    def failed(self, exc: BaseException) -> None:
        with self._lock:
            if self._since is not None:
                return
            self._since = time.monotonic()
        log.warning(
            "dependency.down name=%s error=%s: %s (backing off; logged once per outage)",
            self.name,
            type(exc).__name__,
            str(exc).splitlines()[0][:200] if str(exc) else "",
        )

    def recovered(self) -> None:
        with self._lock:
            if self._since is None:
                return
            down_s = time.monotonic() - self._since
            self._since = None
        log.warning("dependency.up name=%s down_s=%.1f", self.name, down_s)
