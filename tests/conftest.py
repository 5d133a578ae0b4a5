"""Shared fixtures: a fresh Postgres database migrated once per run, and a private Redis db.

The environment is set before any `workers` module is imported, so the settings, the
engine and the Celery app all point at the test servers. A server that is down is an
error here, never a skip: these tests exist to prove the server path.

How a test's rows are cleaned up (`clean_state`) — one of two paths, chosen per test:

- **Rolled back** (the default): the test runs inside one transaction on one connection,
  rolled back at its end. Every session the code opens (`new_session()`, `session_scope()`,
  the API's request session) joins that transaction through a savepoint
  (`workers.db.engine.join_sessions_to`), so commits happen as in production, inside it,
  and nothing remains afterwards. For tests that run the code in this process, one thread
  at a time (a TestClient request runs in a worker thread, which is fine: it has ended
  before the next call). A session begun while another thread holds one fails the test:
  such a test needs the other path.
- **Committed, tables truncated before it**: marked `e2e` (real worker, poller, beat or API
  processes) or `committed` (threads racing for locks or a unique row, `SKIP LOCKED`,
  reads or writes through `get_engine()` or another connection, which cannot see the
  rolled-back transaction). Its writes commit for real, as they do in production.

`--always-truncate` puts every test on the second path: a check that no test passes only
because its sessions shared one transaction.

Redis is not transactional: every key of this run (broker queues, and the cache's
read-through copies, `<prefix>cache:…`) is deleted before each test on both paths, or a
copy would still serve a result whose rows were rolled back.
"""

from __future__ import annotations

import os
import tempfile
import threading
import uuid
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis

from devtools.database import create_database, database_url, drop_database

ADMIN_URL = os.environ.get("TEST_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_BASE = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379")
TEST_DB = f"aq_test_{uuid.uuid4().hex[:10]}"
REDIS_DB = int(os.environ.get("TEST_REDIS_DB", "11"))
VAR_DIR = Path(tempfile.mkdtemp(prefix="aq-test-var-"))

DATABASE_URL = database_url(ADMIN_URL, TEST_DB)
BROKER_URL = f"{REDIS_BASE}/{REDIS_DB}"
# Every broker key of this run starts with it: runs sharing the Redis db never meet.
KEY_PREFIX = f"aqtest-{uuid.uuid4().hex[:8]}:"
# A key nobody would type: the secrets test searches every trace of a run for it.
PROVIDER_KEY = "sk-test-NEVER-LEAK-9f8e7d"

from emulator.config import EmulatorConfig, ModelSettings  # noqa: E402
from emulator.testing import EmulatorServer  # noqa: E402

# Bound now (its port goes into the environment below), started by the `emulator` fixture.
EMULATOR = EmulatorServer(
    EmulatorConfig(defaults=ModelSettings(queue_s=0.3, generation_s=0.5, fps=4, retry_after_s=0.2))
)

os.environ.update(
    {
        "DATABASE_URL": DATABASE_URL,
        "BROKER_URL": BROKER_URL,
        "BROKER_KEY_PREFIX": KEY_PREFIX,
        "VAR_DIR": str(VAR_DIR),
        "STORAGE_DIR": str(VAR_DIR / "media"),
        "PUBLIC_BASE_URL": "http://testserver",
        "LOCAL_MODEL_LOADING_S": "0.05",
        "LOCAL_GENERATION_S": "0.05",
        "FAL_KEY": PROVIDER_KEY,
        "OPENAI_API_KEY": PROVIDER_KEY,
        "GEMINI_API_KEY": PROVIDER_KEY,
        "REPLICATE_API_TOKEN": PROVIDER_KEY,
        "FAL_BASE_URL": EMULATOR.url,
        "OPENAI_BASE_URL": f"{EMULATOR.url}/v1",
        "GEMINI_BASE_URL": f"{EMULATOR.url}/v1beta",
        "REPLICATE_BASE_URL": f"{EMULATOR.url}/v1",
        # Fast polling and few retries keep the hosted tests short.
        "POLL_MIN_INTERVAL_S": "0.1",
        "POLL_MAX_INTERVAL_S": "0.3",
        "MAX_RETRIES": "2",
        "CIRCUIT_FAILURE_THRESHOLD": "3",
        "CIRCUIT_OPEN_S": "2",
        # A killed worker's job is taken over within seconds (the heartbeat keeps live ones).
        "JOB_LEASE_S": "2",
        "SWEEP_INTERVAL_S": "0.5",
        "UNSENT_JOB_GRACE_S": "1",
    }
)

from fastapi.testclient import TestClient  # noqa: E402
from psycopg.errors import DeadlockDetected  # noqa: E402
from sqlalchemy import Connection, event, text  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlalchemy.orm import Session, SessionTransaction, sessionmaker  # noqa: E402

from api.app import create_app  # noqa: E402
from workers.db.engine import (  # noqa: E402
    get_engine,
    join_sessions_to,
    reset_engine,
    session_scope,
)
from workers.db.migrate import upgrade  # noqa: E402
from workers.db.models import Base  # noqa: E402
from workers.job.models import DEFAULT_OWNER  # noqa: E402
from workers.key import service as keys  # noqa: E402
from workers.settings import get_settings  # noqa: E402


@pytest.fixture(scope="session", autouse=True)
def database() -> Iterator[str]:
    create_database(ADMIN_URL, TEST_DB)
    get_settings.cache_clear()
    upgrade()
    yield DATABASE_URL
    reset_engine(close=True)
    drop_database(ADMIN_URL, TEST_DB)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    EMULATOR.close_unstarted()


@pytest.fixture(scope="session")
def emulator() -> Iterator[EmulatorServer]:
    EMULATOR.start()
    yield EMULATOR
    EMULATOR.stop()


@pytest.fixture(scope="session")
def redis_client() -> redis.Redis[bytes]:
    client = redis.Redis.from_url(BROKER_URL)
    client.ping()
    return client


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--always-truncate",
        action="store_true",
        help="commit every test's writes and truncate the tables before each test, instead "
        "of rolling back the tests that run in this process",
    )


# A test with one of these markers commits for real (see the module docstring).
COMMITTING_MARKERS = ("e2e", "committed")


def commits_for_real(item: pytest.Item) -> bool:
    if item.config.getoption("--always-truncate"):
        return True
    return any(item.get_closest_marker(name) for name in COMMITTING_MARKERS)


class CommittedRows:
    """Whether a committing test ran last: its rows (and whatever its processes wrote until
    they stopped, module fixtures included) are still there, so the next test truncates."""

    left = False


def truncate_all(attempts: int = 3) -> None:
    """Empty every table. A process of the test's own that is just starting (a worker
    taking a message, an API answering) may hold a row lock the TRUNCATE waits for while it
    waits for the TRUNCATE's: Postgres breaks such a deadlock by failing one side, and the
    TRUNCATE is simply run again."""
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    for attempt in range(1, attempts + 1):
        try:
            with get_engine().begin() as conn:
                conn.execute(text(f"TRUNCATE {tables}"))
            return
        except OperationalError as exc:
            if attempt == attempts or not isinstance(exc.orig, DeadlockDetected):
                raise


@pytest.fixture(autouse=True)
def clean_state(
    request: pytest.FixtureRequest,
    database: str,
    redis_client: redis.Redis[bytes],
    monkeypatch: pytest.MonkeyPatch,
) -> Iterator[None]:
    """Every test starts with empty tables and an empty broker: see the module docstring."""
    keys = list(redis_client.scan_iter(match=f"{KEY_PREFIX}*", count=1000))
    if keys:
        redis_client.delete(*keys)
    committing = commits_for_real(request.node)
    if committing or CommittedRows.left:
        truncate_all()
    CommittedRows.left = committing
    if committing:
        yield
        return
    # A running attempt's heartbeat renews its lease from a thread of its own every third
    # of JOB_LEASE_S, which would share the test's connection with the attempt's own
    # sessions. A lease no in-process attempt outlives keeps it quiet; the heartbeat is
    # proven by the kill tests, whose worker processes keep the 2 s lease.
    monkeypatch.setattr(get_settings(), "job_lease_s", 600.0)
    clashes: list[str] = []
    with get_engine().connect() as conn:
        transaction = conn.begin()
        try:
            with join_sessions_to(conn) as maker, one_thread_at_a_time(maker, clashes):
                yield
        finally:
            transaction.rollback()
    assert not clashes, "sessions of two threads overlapped (mark the test `committed`):\n" + (
        "\n".join(clashes)
    )


@contextmanager
def one_thread_at_a_time(maker: sessionmaker[Session], clashes: list[str]) -> Iterator[None]:
    """Add to `clashes` every session begun while a session of another thread is open."""
    holders: weakref.WeakKeyDictionary[Session, threading.Thread] = weakref.WeakKeyDictionary()

    def begun(session: Session, transaction: SessionTransaction, _: Connection) -> None:
        if transaction.parent is not None:
            return
        me = threading.current_thread()
        others = {t.name for s, t in list(holders.items()) if s is not session and t is not me}
        if others:
            clashes.append(f"thread {me.name} began a session while {sorted(others)} held one")
        holders[session] = me

    def ended(session: Session, transaction: SessionTransaction) -> None:
        if transaction.parent is None:
            holders.pop(session, None)

    event.listen(maker, "after_begin", begun)
    event.listen(maker, "after_transaction_end", ended)
    try:
        yield
    finally:
        event.remove(maker, "after_begin", begun)
        event.remove(maker, "after_transaction_end", ended)


@pytest.fixture
def api_key(clean_state: None) -> str:
    """A key without limits whose owner is the one `producer.submit` uses by default, so
    jobs a test submits in-process are the API client's own."""
    with session_scope() as session:
        _, token = keys.create(session, name="tests", owner=DEFAULT_OWNER)
    return token


@pytest.fixture
def client(api_key: str) -> Iterator[TestClient]:
    """The API in-process, called with `api_key`."""
    with TestClient(create_app(), headers={"Authorization": f"Bearer {api_key}"}) as test_client:
        yield test_client


def queued_messages(
    client: redis.Redis[bytes],
    names: tuple[str, ...] = ("jobs", "hosted", "prewarm", "maintenance"),
) -> int:
    """Messages waiting in the named queues (kombu keeps one list per priority level)."""
    queues = tuple(f"{KEY_PREFIX}{name}".encode() for name in names)
    return sum(
        int(client.llen(key))
        for key in client.scan_iter(match=f"{KEY_PREFIX}*")
        if key.split(b"\x06")[0] in queues and client.type(key) == b"list"
    )


def table_counts() -> dict[str, int]:
    # Through a session: on the rolled-back path it sees what the test's sessions committed.
    with session_scope() as session:
        return {
            table: int(session.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("jobs", "job_phases", "job_events")
        }


def someone_waits_on_a_lock() -> bool:
    """A session of this run's database is waiting for a row lock (committed tests only:
    it asks from a connection of its own)."""
    with get_engine().connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
        ).scalar_one()
    return bool(waiting)
