"""The benchmark's world: a private Postgres database, private Redis dbs, and processes.

Import this module before anything from `workers`: it points the settings at the bench
servers through the environment, as a deployment would.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path

import psycopg
import redis

ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_BASE = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
DB_NAME = f"aq_bench_{uuid.uuid4().hex[:8]}"
_admin = psycopg.conninfo.conninfo_to_dict(ADMIN_URL)
DATABASE_URL = (
    f"postgresql+psycopg://{_admin.get('user', 'postgres')}@{_admin.get('host', '127.0.0.1')}:"
    f"{_admin.get('port', 5432)}/{DB_NAME}"
)
BROKER_URL = f"{REDIS_BASE}/12"
BASELINE_BROKER_URL = f"{REDIS_BASE}/13"
VAR_DIR = Path(tempfile.mkdtemp(prefix="aq-bench-"))


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


EMULATOR_PORT = free_port()

os.environ.update(
    {
        "DATABASE_URL": DATABASE_URL,
        "BROKER_URL": BROKER_URL,
        "BENCH_BASELINE_BROKER": BASELINE_BROKER_URL,
        "VAR_DIR": str(VAR_DIR),
        "PUBLIC_BASE_URL": "http://127.0.0.1",
        # Zero-latency local model: every figure is the system's own cost.
        "LOCAL_MODEL_LOADING_S": "0",
        "LOCAL_GENERATION_S": "0",
        # The in-flight case's provider: the emulator on loopback.
        "FAL_KEY": "bench",
        "FAL_BASE_URL": f"http://127.0.0.1:{EMULATOR_PORT}",
        "PROVIDER_CONCURRENCY": "100000",
    }
)


def answers(url: str) -> bool:
    """Whether `url` answers 200 yet (a server still starting refuses the connection)."""
    import httpx

    try:
        return httpx.get(url).status_code == 200
    except httpx.TransportError:
        return False


def wait_for(check: Callable[[], bool], timeout_s: float, what: str) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.02)
    raise RuntimeError(f"timed out waiting for {what}")


class Processes:
    """Children started by the benchmark; all stopped on exit."""

    def __init__(self) -> None:
        self.children: list[subprocess.Popen[bytes]] = []

    def start(
        self, argv: list[str], name: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        with (VAR_DIR / f"{name}.log").open("ab") as log:
            child = subprocess.Popen(
                argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, env=env
            )
        self.children.append(child)
        return child

    def stop(self, child: subprocess.Popen[bytes]) -> None:
        if child.poll() is None:
            os.killpg(child.pid, signal.SIGTERM)
            try:
                child.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(child.pid, signal.SIGKILL)
                child.wait()
        if child in self.children:
            self.children.remove(child)

    def stop_all(self) -> None:
        for child in list(self.children):
            self.stop(child)


def ours(*args: str) -> list[str]:
    return [sys.executable, "-m", "workers.cli", *args]


def baseline_worker(concurrency: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "celery",
        "-A",
        "bench.baseline_app",
        "worker",
        "--pool=prefork",
        f"--concurrency={concurrency}",
        "--loglevel=WARNING",
        "--without-gossip",
        "--without-mingle",
    ]


def baseline_env() -> dict[str, str]:
    """The celery command line reads BROKER_URL as its --broker: keep ours out of its way."""
    return {k: v for k, v in os.environ.items() if k != "BROKER_URL"}


def create_database() -> None:
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{DB_NAME}"')
    from workers.db.migrate import upgrade

    upgrade()


def drop_database() -> None:
    from workers.db.engine import reset_engine

    reset_engine(close=True)
    with psycopg.connect(ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{DB_NAME}" WITH (FORCE)')


def reset_state() -> None:
    from sqlalchemy import text

    from workers.db.engine import get_engine
    from workers.db.models import Base

    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {tables}"))
    redis.Redis.from_url(BROKER_URL).flushdb()
    redis.Redis.from_url(BASELINE_BROKER_URL).flushdb()
