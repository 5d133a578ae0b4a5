"""Kill tests: a worker that dies at a named point, and the processes that recover."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from devtools.processes import Children, cli, wait_for, worker_answers
from tests.hosted.conftest import fresh_emulator
from workers.celery_app import app as celery_app

# The same emulator reset as the hosted tests, not a copy of it.
__all__ = ["fresh_emulator"]

Started = Callable[..., subprocess.Popen[bytes]]


@pytest.fixture
def processes(tmp_path: Path) -> Iterator[Started]:
    """Start system processes by role; every one is stopped at the end of the test."""
    children = Children(tmp_path)

    def launch(
        role: str, *args: str, name: str | None = None, **env: str
    ) -> subprocess.Popen[bytes]:
        return children.start(cli(role, *args), name or role, {**os.environ, **env}, tmp_path)

    yield launch
    children.stop_all()


def wait_ping() -> None:
    wait_for(lambda: worker_answers(celery_app), 60, "a worker")


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
