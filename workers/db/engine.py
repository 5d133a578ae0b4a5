"""One engine per process, reached through `get_engine()`; `session_scope()` owns a transaction.

Celery's prefork pool forks after import, so the worker calls `reset_engine()` in
`worker_process_init`: a pooled connection must never be shared across processes.
`join_sessions_to()` is a hook for tests only.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, create_engine, event
from sqlalchemy.orm import Session, sessionmaker

from workers.db import outbox
from workers.settings import Settings, get_settings

_engine: Engine | None = None
_sessionmaker: sessionmaker[Session] | None = None


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the API read while a worker writes; busy_timeout waits for a lock instead of
    # failing at once when two processes write at the same moment.
    # The driver's own transaction handling is off: it would run a transaction's reads
    # outside it (see `_sqlite_begin`).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def _sqlite_begin(connection: Connection) -> None:
    # SQLite has no row locks: `SELECT … FOR UPDATE` is a plain read there. Taking the
    # database's write lock when a transaction begins makes the read-then-write of a job
    # row (its next event number, its status) as safe as Postgres's row lock, across
    # processes; other writers wait (busy_timeout), readers outside a transaction do not.
    connection.exec_driver_sql("BEGIN IMMEDIATE")


def make_engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    # Sized for the API's 40 request threads: a connection made and dropped per request
    # (pool overflow) costs more than the request itself. Idle slots open no connection.
    settings = get_settings()
    return create_engine(
        url,
        pool_pre_ping=True,
        pool_size=settings.db_pool_size,
        max_overflow=10,
        pool_timeout=settings.db_pool_timeout_s,
        connect_args=postgres_timeouts(settings),
    )


def postgres_timeouts(settings: Settings) -> dict[str, Any]:
    """Bounded waits, as libpq parameters: a connection attempt gives up after
    `DB_CONNECT_TIMEOUT_S` (libpq counts whole seconds, at least 2), and the server cancels
    any statement after `DB_STATEMENT_TIMEOUT_S` (lock waits included)."""
    statement_ms = max(1, round(settings.db_statement_timeout_s * 1000))
    return {
        "connect_timeout": max(2, math.ceil(settings.db_connect_timeout_s)),
        "options": f"-c statement_timeout={statement_ms}",
    }


def get_engine() -> Engine:
    global _engine, _sessionmaker
    if _engine is None:
        settings = get_settings()
        if settings.is_sqlite:
            settings.var_dir.mkdir(parents=True, exist_ok=True)
        _engine = make_engine(settings.database_url)
        _sessionmaker = sessionmaker(_engine, expire_on_commit=False)
        # The only session hooks in the project: sends registered on a session run after
        # its commit and are dropped on rollback.
        outbox.attach(_sessionmaker)
    return _engine


def reset_engine(*, close: bool = False) -> None:
    """Forget the engine. After a fork, leave the parent's connections open (`close=False`):
    closing them here would close them for the parent too."""
    global _engine, _sessionmaker
    if _engine is not None:
        _engine.dispose(close=close)
    _engine = None
    _sessionmaker = None


def new_session() -> Session:
    get_engine()
    assert _sessionmaker is not None
    return _sessionmaker()


@contextmanager
def session_scope() -> Iterator[Session]:
    """A session whose transaction commits on success and rolls back on error."""
    session = new_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def join_sessions_to(connection: Connection) -> Iterator[sessionmaker[Session]]:
    """Test hook: while open, every session of this process runs inside `connection`'s
    transaction, which the caller ends (a test rolls it back: nothing it wrote remains).

    Each session from `new_session()` / `session_scope()` joins through a SAVEPOINT
    (`join_transaction_mode="create_savepoint"`): its commit releases the savepoint, its
    rollback returns to it. Only the bind and the join mode of the one process-wide
    sessionmaker change, and are restored on exit: the same object (yielded) keeps its
    other settings and every event hook attached to it. `get_engine()` is not touched, so
    code that uses the engine directly works on a connection of its own and does not see
    the joined transaction. A connection serves one thread at a time: threads may take
    turns, but two threads must not hold sessions at once while this is open.
    """
    get_engine()
    maker = _sessionmaker
    assert maker is not None
    saved = {key: maker.kw[key] for key in ("bind", "join_transaction_mode") if key in maker.kw}
    maker.configure(bind=connection, join_transaction_mode="create_savepoint")
    try:
        yield maker
    finally:
        maker.kw.pop("join_transaction_mode", None)
        maker.configure(**saved)
        if _sessionmaker is not maker:
            raise RuntimeError("reset_engine() ran while sessions were joined to a connection")
