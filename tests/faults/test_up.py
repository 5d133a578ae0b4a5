"""`up` in a brand-new directory starts every time, and SIGTERM with a job running hands the
job back to the queue: the next start finishes it exactly once."""

from __future__ import annotations

import os
import signal
import subprocess
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from devtools.processes import answers, free_port, start, wait_for
from tests.faults.helpers import ended_exactly_once
from workers.cli.supervisor import GRACE_S
from workers.db.engine import session_scope
from workers.job import repository
from workers.job.models import JobEvent

pytestmark = pytest.mark.e2e

# `up` makes its own directories: nothing of the test's VAR_DIR is passed on.
NOT_PASSED = ("VAR_DIR", "STORAGE_DIR", "PUBLIC_BASE_URL")
# Long enough for `up` to kill a child that outlives its grace: a stop is judged clean by
# its exit status and by "killing it" being absent from the log, never by how long it took.
STOP_WAIT_S = GRACE_S + 40.0


@contextmanager
def up(directory: Path, **settings: str) -> Iterator[tuple[subprocess.Popen[bytes], Path]]:
    """`abstrakt-queue up` on the tests' Postgres and Redis, started in `directory`, every
    role up; stopped with SIGTERM at the end if the test has not stopped it."""
    env = {k: v for k, v in os.environ.items() if k not in NOT_PASSED} | settings
    port = free_port()
    log = directory / "up.log"
    process = start(["up", "--port", str(port)], env=env, cwd=directory, log=log)
    try:

        def started() -> bool:
            assert process.poll() is None, log.read_text()
            text = log.read_text(errors="replace")
            return (
                answers(f"http://127.0.0.1:{port}/healthz")
                and " ready." in text  # the worker
                and "beat: Starting" in text
                and "poller.started" in text
            )

        wait_for(started, 90, "every role of `up` to start", interval_s=0.2)
        yield process, log
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=STOP_WAIT_S)


def test_up_in_an_empty_directory_starts_every_time(tmp_path: Path) -> None:
    for run in range(5):
        directory = tmp_path / f"fresh-{run}"
        directory.mkdir()
        with up(directory) as (process, log):
            assert list((directory / "var").glob("celerybeat-schedule*")), "beat kept nothing"
            process.send_signal(signal.SIGTERM)
            assert process.wait(timeout=STOP_WAIT_S) == 0, log.read_text()
        text = log.read_text()
        assert "; restarting in" not in text, text  # no role died on its way up
        assert "killing it" not in text, text


def test_sigterm_hands_a_running_job_back_and_the_next_start_finishes_it_once(
    tmp_path: Path, client: TestClient
) -> None:
    with up(tmp_path, LOCAL_GENERATION_S="60") as (process, log):
        job_id = uuid.UUID(
            client.post(
                "/v1/jobs", json={"model": "local/image", "input": {"prompt": "a slow fox"}}
            ).json()["id"]
        )
        wait_for(lambda: _phases(job_id) == ["queue_wait", "model_loading"], 60, "generation")
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=STOP_WAIT_S) == 0, log.read_text()
    assert "killing it" not in log.read_text(), log.read_text()
    job = _job(job_id)
    assert (job["status"], job["attempts"]) == ("queued", 1)
    assert {"type": "requeued", "reason": "worker_stopping"} in job["events"]

    with up(tmp_path, LOCAL_GENERATION_S="0.05"):
        wait_for(lambda: _job(job_id)["status"] == "succeeded", 60, "the job to finish")
    ended_exactly_once([job_id])
    assert _job(job_id)["attempts"] == 2


def _phases(job_id: uuid.UUID) -> list[str]:
    with session_scope() as session:
        return [p.name for p in repository.phases_of(session, job_id) if p.attempt == 1]


def _job(job_id: uuid.UUID) -> dict[str, Any]:
    with session_scope() as session:
        job = repository.get(session, job_id)
        assert job is not None
        events = session.scalars(select(JobEvent).where(JobEvent.job_id == job_id)).all()
        return {
            "status": job.status,
            "attempts": job.attempts,
            "events": [{"type": e.type, "reason": (e.payload or {}).get("reason")} for e in events],
        }
