"""A Redis without persistence restarted with jobs queued and running: every accepted job
ends exactly once, because the sweeper re-sends from the rows what the broker forgot."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

import pytest

from devtools.processes import Children, answers, cli, free_port, wait_for
from devtools.redis_server import RedisServer
from tests.faults.helpers import ended_exactly_once, post_job, says, unfinished

pytestmark = pytest.mark.e2e

JOBS = 30
GRACE_S = 2.0  # LOST_MESSAGE_GRACE_S for these processes
# After the restart, a lost message is replaced within max(grace, time queued) plus one
# sweep (0.5 s); the jobs queued here waited ~15 s at most, and take ~0.4 s each on one
# worker process: 60 s is a generous bound that a regression (nothing re-sent) cannot meet.
BOUND_S = 60.0


def test_jobs_queued_across_a_redis_restart_all_end_exactly_once(
    tmp_path: Path, api_key: str
) -> None:
    children = Children(tmp_path)
    with RedisServer(tmp_path) as redis_server:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "BROKER_URL": f"{redis_server.url}/0",
            "PUBLIC_BASE_URL": base,
            "LOST_MESSAGE_GRACE_S": str(GRACE_S),
            "LOCAL_MODEL_LOADING_S": "0.1",
            "LOCAL_GENERATION_S": "0.3",
        }
        try:
            children.start(cli("api", "--port", str(port)), "api", env, tmp_path)
            children.start(cli("worker", "--concurrency", "1"), "worker", env, tmp_path)
            children.start(cli("beat"), "beat", env, tmp_path)
            wait_for(lambda: answers(f"{base}/healthz"), 60, "the API")
            wait_for(lambda: says(tmp_path / "worker.log", " ready."), 60, "the worker")

            accepted: list[uuid.UUID] = []
            for i in range(JOBS):
                response = post_job(base, api_key, f"a lighthouse, take {i}")
                assert response.status_code == 202, response.text
                accepted.append(uuid.UUID(response.json()["id"]))
            # Some done, one running, the rest queued in Redis: then Redis forgets them all.
            wait_for(lambda: len(unfinished(accepted)) < JOBS - 2, 60, "the first jobs to end")
            assert len(unfinished(accepted)) > JOBS / 2
            redis_server.restart()
            restarted = time.monotonic()

            wait_for(lambda: not unfinished(accepted), BOUND_S, "every job to end", interval_s=0.2)
            took = time.monotonic() - restarted
        finally:
            children.stop_all()
    ended_exactly_once(accepted)
    assert took < BOUND_S
