"""The benchmark's world: a private Postgres database, private Redis dbs, and processes.

Import this module before anything from `workers`: it points the settings at the bench
servers through the environment, as a deployment would.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import redis

from devtools import database
from devtools.processes import Children, cli, free_port, wait_for, worker_answers

ADMIN_URL = os.environ.get("BENCH_PG_ADMIN_URL", "postgresql://postgres@127.0.0.1:5432/test")
REDIS_BASE = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379")
DB_NAME = f"aq_bench_{uuid.uuid4().hex[:8]}"
DATABASE_URL = database.database_url(ADMIN_URL, DB_NAME)
BROKER_URL = f"{REDIS_BASE}/12"
BASELINE_BROKER_URL = f"{REDIS_BASE}/13"
VAR_DIR = Path(tempfile.mkdtemp(prefix="aq-bench-"))
EMULATOR_PORT = free_port()
EMULATOR_URL = f"http://127.0.0.1:{EMULATOR_PORT}"

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
        "FAL_BASE_URL": EMULATOR_URL,
        "PROVIDER_CONCURRENCY": "100000",
    }
)


def processes() -> Children:
    """The run's children, each logging to VAR_DIR/NAME.log.

    Not strict: a baseline worker's warm shutdown waits for its blocking tasks, and being
    killed at the deadline is the intended end of it.
    """
    return Children(VAR_DIR, strict=False)


def start_worker(procs: Children, concurrency: int) -> subprocess.Popen[bytes]:
    from workers.celery_app import app

    child = procs.start(cli("worker", "--concurrency", str(concurrency)), "worker")
    wait_for(lambda: worker_answers(app), 60, "our worker")
    return child


def start_hosted_worker(
    procs: Children, threads: int, child_env: Mapping[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """The hosted queue's worker, as `up` runs it: one process, a pool of threads.

    `child_env`: its whole environment, when it is not the bench's own."""
    from workers.celery_app import app

    argv = cli("worker", "--queues", "hosted", "--pool", "threads", "--concurrency", str(threads))
    child = procs.start([*argv, "--hostname", "hosted@%h"], "hosted", child_env)
    wait_for(lambda: worker_answers(app), 60, "the hosted worker")
    return child


def start_baseline(procs: Children, concurrency: int) -> subprocess.Popen[bytes]:
    from bench.baseline_app import app

    child = procs.start(baseline_worker(concurrency), "baseline", baseline_env())
    wait_for(lambda: worker_answers(app), 60, "the baseline worker")
    return child


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
    database.create_database(ADMIN_URL, DB_NAME)
    from workers.db.migrate import upgrade

    upgrade()


def drop_database() -> None:
    from workers.db.engine import reset_engine

    reset_engine(close=True)
    database.drop_database(ADMIN_URL, DB_NAME)


def reset_state() -> None:
    from sqlalchemy import text

    from workers.db.engine import get_engine
    from workers.db.models import Base

    tables = ", ".join(table.name for table in Base.metadata.sorted_tables)
    with get_engine().begin() as conn:
        conn.execute(text(f"TRUNCATE {tables}"))
    redis.Redis.from_url(BROKER_URL).flushdb()
    redis.Redis.from_url(BASELINE_BROKER_URL).flushdb()


def new_api_key(name: str = "bench", **limits: Any) -> str:
    """A key for the API cases (auth is on, as in production); limits as `keys create`."""
    from workers.db.engine import session_scope
    from workers.key import service
    from workers.key.service import Limits

    with session_scope() as session:
        _, token = service.create(session, name=name, limits=Limits(**limits))
    return token
