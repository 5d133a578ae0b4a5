"""Kill tests: a worker that dies at a named point, and the processes that recover."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.workers import start, stop, wait_for
from tests.hosted.conftest import client, fresh_emulator
from workers.celery_app import app as celery_app

# The same emulator reset and API client as the hosted tests, not a copy of them.
__all__ = ["client", "fresh_emulator"]

Started = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Started]:
    """Start system processes by role; every one is stopped at the end of the test."""
    started: list[subprocess.Popen[bytes]] = []

    def launch(
        role: str, *args: str, name: str | None = None, **env: str
    ) -> subprocess.Popen[bytes]:
        log = tmp_path / f"{name or role}.log"
        child = start([role, *args], env={**os.environ, **env}, cwd=tmp_path, log=log)
        started.append(child)
        return child

    yield launch
    # Together: each waits for its own warm shutdown, never for the others'.
    with ThreadPoolExecutor(max(len(started), 1)) as pool:
        list(pool.map(stop, started))


def wait_ping() -> None:
    wait_for(lambda: True if celery_app.control.ping(timeout=0.3) else None, 60, "a worker")


def phase_rows_consistent(job: dict[str, Any]) -> None:
    """Per attempt, each phase at most once, in order, back to back; the last attempt whole."""
    order = ["queue_wait", "model_loading", "generation", "encoding", "upload"]
    by_attempt: dict[int, list[dict[str, Any]]] = {}
    for phase in job["phases"]:
        by_attempt.setdefault(phase["attempt"], []).append(phase)
    for attempt, phases in by_attempt.items():
        names = [p["name"] for p in phases]
        assert names == order[: len(names)], (attempt, names)
    assert [p["name"] for p in by_attempt[job["attempts"]]] == order
