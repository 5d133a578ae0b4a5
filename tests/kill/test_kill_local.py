"""A worker SIGKILLed in the middle of a local job: another worker finishes it once."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from devtools.processes import wait_for
from tests.hosted.conftest import wait_job
from tests.kill.conftest import Started, phase_rows_consistent, wait_ping

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("point", ["while_generating", "while_encoding", "while_uploading"])
def test_killed_worker_job_is_finished_by_another(
    client: TestClient, processes: Started, point: str
) -> None:
    doomed = processes("worker", "--pool", "solo", name="doomed", CRASH_AT=point)
    wait_ping()
    job_id = client.post(
        "/v1/jobs", json={"model": "local/video", "input": {"prompt": point, "duration": 1}}
    ).json()["id"]
    assert wait_for(lambda: doomed.poll(), 60, "the worker to die") == -9
    assert client.get(f"/v1/jobs/{job_id}").json()["status"] == "running"

    processes("worker", "--concurrency", "1", name="rescuer")
    processes("beat")

    job = wait_job(client, job_id)
    assert job["status"] == "succeeded", job["error"]
    assert job["attempts"] == 2
    phase_rows_consistent(job)
