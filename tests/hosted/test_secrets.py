"""After a full run on every provider with auth on, neither the provider key nor the
caller's API key is anywhere but where it belongs (the adapter; the caller).

Searched: every command Redis received (task messages and their arguments included), the
worker's and the poller's logs at DEBUG, the API's own log records at DEBUG, every stored
row (API keys included: only their hash is kept), and every API response.
"""

from __future__ import annotations

import logging
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from tests.conftest import PROVIDER_KEY, REDIS_BASE
from tests.hosted.conftest import wait_job
from workers.db.engine import get_engine
from workers.settings import get_settings

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def redis_traffic(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """Everything any client sends to Redis while this module runs (MONITOR)."""
    out = tmp_path_factory.mktemp("monitor") / "redis-monitor.txt"
    host_port = REDIS_BASE.split("//", 1)[1]
    host, _, port = host_port.partition(":")
    with out.open("wb") as sink:
        monitor = subprocess.Popen(
            ["redis-cli", "-h", host, "-p", port or "6379", "monitor"], stdout=sink
        )
    yield out
    monitor.terminate()
    monitor.wait(timeout=10)


def test_key_never_leaves_the_adapter(
    redis_traffic: Path,
    system: Any,
    logs: Path,
    client: TestClient,
    api_key: str,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setattr(get_settings(), "allow_retired_models", True)
    bodies = [
        {"model": "local/image", "input": {"prompt": "zero", "resolution": "480p"}},
        {"model": "fal-ai/flux/schnell", "input": {"prompt": "one"}},
        {"model": "minimax/video-01", "input": {"prompt": "two"}},
        {"model": "veo-3.1", "input": {"prompt": "three", "duration": 4}},
        {"model": "sora-2", "input": {"prompt": "four", "duration": 4}},
        {"model": "fal-ai/ltx-video", "input": {"prompt": "five [[fail]]"}},
        {"model": "minimax/video-01", "input": {"prompt": "six [[reject]]"}},
    ]
    responses = [client.post("/v1/jobs", json=body) for body in bodies]
    jobs = [wait_job(client, r.json()["id"]) for r in responses]
    assert sorted(j["status"] for j in jobs) == ["failed"] * 2 + ["succeeded"] * 5
    cached = client.post("/v1/jobs", json=bodies[0])  # a cache hit: no worker at all
    assert cached.json()["cache_hit"], cached.text
    responses.append(cached)
    seen = [r.text for r in responses] + [client.get(f"/v1/jobs/{j['id']}").text for j in jobs]
    seen.append(client.get("/v1/models").text)
    with get_engine().connect() as conn:
        for table in ("jobs", "job_phases", "job_events", "api_keys", "cache_entries"):
            seen.extend(
                str(row) for row in conn.execute(text(f"SELECT row_to_json(t) FROM {table} t"))
            )
    # The traces this test reads must really hold what happened, or the search proves nothing.
    worker_log = (logs / "worker.log").read_text()
    assert jobs[1]["id"] in worker_log
    traffic = redis_traffic.read_text(errors="replace")
    assert jobs[1]["id"] in traffic
    api_log = "\n".join(record.getMessage() for record in caplog.records)
    assert jobs[1]["id"] in api_log  # the client's request lines, at the least
    for name, content in {
        "api responses and rows": "\n".join(seen),
        "worker log": worker_log,
        "poller log": (logs / "poller.log").read_text(),
        "api log": api_log,
        "redis traffic": traffic,
    }.items():
        assert PROVIDER_KEY not in content, f"the provider key leaked into the {name}"
        assert api_key not in content, f"the API key leaked into the {name}"
