"""The Python client against the real system: an API process, a worker, a poller (for the
hosted models on the emulator), on the suite's Postgres and Redis. Started once for the
package; each test gets a fresh key of its own."""

from __future__ import annotations

import os
import signal
import subprocess
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from abstrakt import AbstraktClient
from devtools.processes import free_port, start, stop, wait_for, worker_answers
from emulator.testing import EmulatorServer
from workers.celery_app import app as celery_app
from workers.db.engine import session_scope
from workers.key import service as keys
from workers.key.service import Limits

# The API answers media under this base (tests/conftest.py sets it); the files are served
# by the API process itself.
PUBLIC_BASE_URL = "http://testserver"


@pytest.fixture(scope="package")
def api_url(emulator: EmulatorServer, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    logs = tmp_path_factory.mktemp("client-system")
    port = free_port()
    env = {**os.environ, "AUTH_CACHE_S": "1"}
    processes: dict[str, subprocess.Popen[bytes]] = {
        "api": start(["api", "--port", str(port)], env=env, cwd=Path.cwd(), log=logs / "api.log"),
        "worker": start(
            ["worker", "--concurrency", "2"], env=env, cwd=Path.cwd(), log=logs / "worker.log"
        ),
        "poller": start(["poller"], env=env, cwd=Path.cwd(), log=logs / "poller.log"),
    }
    url = f"http://127.0.0.1:{port}"

    def ready() -> bool:
        for name, process in processes.items():
            assert process.poll() is None, (logs / f"{name}.log").read_text()
        try:
            httpx.get(f"{url}/healthz", timeout=2).raise_for_status()
        except httpx.HTTPError:
            return False
        return worker_answers(celery_app)

    wait_for(ready, 60, "the API to answer and the worker to answer a ping")
    yield url
    with ThreadPoolExecutor(len(processes)) as pool:  # together: none waits for another
        codes = dict(zip(processes, pool.map(stop, processes.values()), strict=True))
    for name, code in codes.items():
        # uvicorn shuts down cleanly on SIGTERM, then re-raises it (exit status -15).
        clean = (0, -signal.SIGTERM) if name == "api" else (0,)
        assert code in clean, (logs / f"{name}.log").read_text()


@pytest.fixture
def sdk(api_url: str, api_key: str) -> Iterator[AbstraktClient]:
    with AbstraktClient(api_key, api_url, timeout=10) as client:
        yield client


@pytest.fixture
def env_key(api_url: str, api_key: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """`AbstraktClient()` without arguments finds the API and the key, as the seed has it."""
    monkeypatch.setenv("ABSTRAKT_BASE_URL", api_url)
    monkeypatch.setenv("ABSTRAKT_API_KEY", api_key)


def make_key(*, rpm: int) -> str:
    """A key limited to `rpm` requests a minute."""
    with session_scope() as session:
        _, token = keys.create(session, name="client-rated", limits=Limits(rpm=rpm))
    return token


def served(url: str, api_url: str) -> httpx.Response:
    """The media file at `url`, from the API process that serves it."""
    return httpx.get(url.replace(PUBLIC_BASE_URL, api_url))
