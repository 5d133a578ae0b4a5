"""Shared fixtures: a fresh Postgres database migrated once per run, and a private Redis db.

The environment is set before any `workers` module is imported, so the settings, the
engine and the Celery app all point at the test servers. A server that is down is an
error here, never a skip: these tests exist to prove the server path.
"""

from __future__ import annotations

import os
import tempfile
import uuid
from collections.abc import Iterator
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
from sqlalchemy import text  # noqa: E402

from api.app import create_app  # noqa: E402
from workers.db.engine import get_engine, reset_engine, session_scope  # noqa: E402
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


@pytest.fixture(autouse=True)
def clean_state(database: str, redis_client: redis.Redis[bytes]) -> None:
    """Every test starts with empty tables and an empty broker."""
    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {tables}"))
    keys = list(redis_client.scan_iter(match=f"{KEY_PREFIX}*", count=1000))
    if keys:
        redis_client.delete(*keys)


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


def queued_messages(client: redis.Redis[bytes]) -> int:
    """Messages waiting in any of our queues (kombu keeps one list per priority level)."""
    queues = tuple(f"{KEY_PREFIX}{name}".encode() for name in ("jobs", "prewarm", "maintenance"))
    return sum(
        int(client.llen(key))
        for key in client.scan_iter(match=f"{KEY_PREFIX}*")
        if key.split(b"\x06")[0] in queues and client.type(key) == b"list"
    )


def table_counts() -> dict[str, int]:
    with get_engine().connect() as conn:
        return {
            table: int(conn.execute(text(f"SELECT count(*) FROM {table}")).scalar_one())
            for table in ("jobs", "job_phases", "job_events")
        }
