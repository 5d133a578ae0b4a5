"""Two real beat processes on one schedule: each cron slot starts pre-generation once."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from devtools.processes import wait_for
from tests.kill.conftest import Started, processes, wait_ping
from workers.db.engine import session_scope
from workers.job.models import Job
from workers.prewarm.models import PrewarmRun

pytestmark = pytest.mark.e2e
__all__ = ["processes"]  # the fixture, shared with the kill tests


def test_two_beats_fire_each_slot_once(
    processes: Started, client: TestClient, tmp_path: Path
) -> None:
    for prompt in ("a fox at dawn", "an owl at dusk"):
        response = client.post(
            "/v1/prewarm", json={"model": "local/image", "input": {"prompt": prompt}}
        )
        assert response.status_code == 201, response.text
    every_minute = {"PREWARM_CRON": "* * * * *"}
    processes("worker", "--concurrency", "1", "--queues", "jobs,prewarm,maintenance")
    wait_ping()
    # Each beat keeps its own schedule file, as on two hosts.
    for name in ("beat-a", "beat-b"):
        (tmp_path / name).mkdir()
        processes("beat", name=name, VAR_DIR=str(tmp_path / name), **every_minute)

    def fired() -> int | None:
        with session_scope() as session:
            runs = session.scalar(select(func.count()).select_from(PrewarmRun))
        return int(runs) if runs else None

    # Beat fires at the next whole minute: up to 60 s away.
    assert wait_for(fired, 90, "a scheduled slot to fire") == 1

    def both_beats_sent() -> bool | None:
        sent = sum(
            (tmp_path / f"{name}.log").read_text().count("Sending due task prewarm.run")
            for name in ("beat-a", "beat-b")
        )
        return True if sent >= 2 else None

    wait_for(both_beats_sent, 30, "both beats to send the slot's task")

    def prewarm_jobs_finished() -> list[str] | None:
        with session_scope() as session:
            statuses = list(session.scalars(select(Job.status).where(Job.source == "prewarm")))
        return statuses if statuses and all(s == "succeeded" for s in statuses) else None

    assert len(wait_for(prewarm_jobs_finished, 60, "the pre-generation jobs")) == 2
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(PrewarmRun)) == 1
