"""Pollers on several hosts share the waiting jobs without advancing any of them twice."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from devtools.processes import wait_for
from emulator.testing import EmulatorServer
from tests.hosted.conftest import submissions
from tests.kill.conftest import Started, phase_rows_consistent, wait_ping

pytestmark = pytest.mark.e2e
MODEL = "fal-ai/ltx-video"


def test_two_pollers_finish_every_job_once(
    client: TestClient, emulator: EmulatorServer, processes: Started, tmp_path: Path
) -> None:
    emulator.configure(model=MODEL, generation_s=1)
    processes("worker", "--concurrency", "2")
    first = processes("poller", "--loglevel", "DEBUG", name="poller-a")
    second = processes("poller", "--loglevel", "DEBUG", name="poller-b")
    wait_ping()
    ids = [
        client.post("/v1/jobs", json={"model": MODEL, "input": {"prompt": f"shared {i}"}}).json()[
            "id"
        ]
        for i in range(24)
    ]

    def all_done() -> list[dict[str, Any]] | None:
        jobs = [client.get(f"/v1/jobs/{job_id}").json() for job_id in ids]
        return jobs if all(j["status"] in ("succeeded", "failed") for j in jobs) else None

    jobs = wait_for(all_done, 90, "every job to finish")
    assert [j["status"] for j in jobs] == ["succeeded"] * len(ids)
    for job in jobs:
        assert job["attempts"] == 1
        phase_rows_consistent(job)
    assert submissions(emulator) == {MODEL: len(ids)}
    assert first.poll() is None
    assert second.poll() is None
    # Both took part (each logs its status calls), so the sharing was real.
    for name in ("poller-a", "poller-b"):
        assert "/status" in (tmp_path / f"{name}.log").read_text(), name
