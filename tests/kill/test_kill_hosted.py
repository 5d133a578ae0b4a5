"""Hosted jobs survive a SIGKILL at each point of their life, with one submission."""

from __future__ import annotations

import signal
from typing import Any

import pytest
from fastapi.testclient import TestClient

from devtools.processes import wait_for
from emulator.testing import EmulatorServer
from tests.hosted.conftest import submissions, wait_job
from tests.kill.conftest import Started, phase_rows_consistent, wait_ping
from workers.settings import get_settings

pytestmark = pytest.mark.e2e
MODEL = "fal-ai/ltx-video"


@pytest.mark.parametrize(
    ("point", "attempts"),
    [("before_submit", 2), ("while_encoding", 1), ("while_uploading", 1)],
)
def test_worker_killed_at_point(
    client: TestClient, emulator: EmulatorServer, processes: Started, point: str, attempts: int
) -> None:
    doomed = processes("worker", "--pool", "solo", name="doomed", CRASH_AT=point)
    processes("poller")
    wait_ping()
    job_id = client.post("/v1/jobs", json={"model": MODEL, "input": {"prompt": point}}).json()["id"]
    assert wait_for(lambda: doomed.poll(), 60, "the worker to die") == -9

    processes("worker", "--concurrency", "1", name="rescuer")
    processes("beat")
    job = wait_job(client, job_id)
    assert job["status"] == "succeeded", job["error"]
    assert job["attempts"] == attempts
    assert submissions(emulator) == {MODEL: 1}
    phase_rows_consistent(job)


def test_poller_killed_while_waiting(
    client: TestClient, emulator: EmulatorServer, processes: Started
) -> None:
    emulator.configure(model=MODEL, generation_s=3)
    processes("worker", "--concurrency", "1")
    poller = processes("poller", name="doomed-poller")
    wait_ping()
    job_id = client.post("/v1/jobs", json={"model": MODEL, "input": {"prompt": "wait"}}).json()[
        "id"
    ]
    wait_for(
        lambda: (
            (client.get(f"/v1/jobs/{job_id}").json()["provider"]["status"] or {}).get("state")
            == "running"
            or None
        ),
        60,
        "the provider to start generating",
    )
    poller.send_signal(signal.SIGKILL)
    poller.wait()
    processes("poller", name="new-poller")
    job = wait_job(client, job_id)
    assert job["status"] == "succeeded", job["error"]
    assert job["attempts"] == 1
    assert submissions(emulator) == {MODEL: 1}
    phase_rows_consistent(job)


@pytest.mark.parametrize("model", ["minimax/video-01", "sora-2"])
def test_killed_between_submit_and_record_finds_the_request_instead_of_resubmitting(
    client: TestClient,
    emulator: EmulatorServer,
    processes: Started,
    model: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The hard window: the provider accepted, our row never learned the request id.

    Replicate and OpenAI list recent requests, so the rescuer looks before submitting.
    """
    monkeypatch.setattr(get_settings(), "allow_retired_models", True)  # sora-2's protocol
    params: dict[str, Any] = (
        {"prompt": "the window", "duration": 4} if model == "sora-2" else {"prompt": "the window"}
    )
    doomed = processes("worker", "--pool", "solo", name="doomed", CRASH_AT="after_submit")
    processes("poller")
    wait_ping()
    job_id = client.post("/v1/jobs", json={"model": model, "input": params}).json()["id"]
    assert wait_for(lambda: doomed.poll(), 60, "the worker to die") == -9
    assert submissions(emulator) == {model: 1}
    assert client.get(f"/v1/jobs/{job_id}").json()["provider"]["request_id"] is None

    processes("worker", "--concurrency", "1", name="rescuer")
    processes("beat")
    job = wait_job(client, job_id)
    assert job["status"] == "succeeded", job["error"]
    assert job["attempts"] == 2
    assert submissions(emulator) == {model: 1}
    phase_rows_consistent(job)
