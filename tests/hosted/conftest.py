"""Real worker and poller processes, the emulator, and helpers to drive hosted jobs."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient

from devtools.processes import start, stop, wait_for, worker_answers
from emulator.testing import EmulatorServer
from workers.celery_app import app as celery_app

TERMINAL = ("succeeded", "failed", "canceled")


@pytest.fixture(scope="module")
def logs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("hosted-logs")


@pytest.fixture(scope="module")
def system_env() -> Mapping[str, str]:
    """The worker's and the poller's environment; a module may add to it (MODELS_FILE)."""
    return os.environ


@pytest.fixture(scope="module")
def system(
    emulator: EmulatorServer, logs: Path, system_env: Mapping[str, str]
) -> Iterator[dict[str, subprocess.Popen[bytes]]]:
    # DEBUG: the most the worker and the poller ever log; the secrets test reads it all.
    worker = start(
        ["worker", "--concurrency", "2", "--loglevel", "DEBUG"],
        env=system_env,
        cwd=Path.cwd(),
        log=logs / "worker.log",
    )
    poller = start(
        ["poller", "--loglevel", "DEBUG"], env=system_env, cwd=Path.cwd(), log=logs / "poller.log"
    )

    def ready() -> bool:
        assert worker.poll() is None, (logs / "worker.log").read_text()
        assert poller.poll() is None, (logs / "poller.log").read_text()
        return worker_answers(celery_app)

    wait_for(ready, 60, "the worker to answer a ping")
    yield {"worker": worker, "poller": poller}
    with ThreadPoolExecutor(2) as pool:  # together: neither waits for the other's shutdown
        poller_code, worker_code = pool.map(stop, (poller, worker))
    assert poller_code == 0, (logs / "poller.log").read_text()
    assert worker_code == 0, (logs / "worker.log").read_text()


@pytest.fixture(autouse=True)
def fresh_emulator(emulator: EmulatorServer) -> None:
    emulator.ctx.reset()


@pytest.fixture
def configure(emulator: EmulatorServer) -> Callable[..., None]:
    """Change the emulator's behaviour over its control API, as a tester would."""
    return emulator.configure


def submissions(emulator: EmulatorServer) -> dict[str, int]:
    counts: dict[str, int] = httpx.get(f"{emulator.url}/_emulator/submissions").json()[
        "submissions"
    ]
    return counts


def wait_job(
    client: TestClient,
    job_id: str,
    until: Callable[[dict[str, Any]], bool] = lambda job: job["status"] in TERMINAL,
    timeout_s: float = 60,
) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        job: dict[str, Any] = client.get(f"/v1/jobs/{job_id}").json()
        return job if until(job) else None

    return wait_for(check, timeout_s, f"job {job_id}")
