"""`/metrics` moving with real jobs: a real API process serves the page while a real worker
runs local jobs and submits hosted ones, and a real poller follows those at the emulator.
Figures are compared as increases over the test, as Prometheus reads counters."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from devtools.processes import answers, free_port, start, stop, wait_for
from tests.hosted.conftest import TERMINAL
from tests.metrics.scrape import parse, value
from workers.db.engine import session_scope
from workers.key import service as keys

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system")]
FIVE = ("queue_wait", "model_loading", "generation", "encoding", "upload")


@pytest.fixture(scope="module")
def api_url(logs: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PUBLIC_BASE_URL": url}
    api = start(["api", "--port", str(port)], env=env, cwd=Path.cwd(), log=logs / "api.log")

    def ready() -> bool:
        assert api.poll() is None, (logs / "api.log").read_text()
        return answers(f"{url}/healthz")

    wait_for(ready, 60, "the API to answer")
    yield url
    assert stop(api) in (0, -signal.SIGTERM), (logs / "api.log").read_text()


@pytest.fixture
def http(api_url: str) -> Iterator[httpx.Client]:
    with session_scope() as session:
        _, token = keys.create(session, name="metrics-e2e")
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=api_url, headers=headers, timeout=30) as client:
        yield client


def submit(http: httpx.Client, model: str, **fields: Any) -> dict[str, Any]:
    response = http.post("/v1/jobs", json={"model": model, "input": {**fields}})
    assert response.status_code in (201, 202), response.text
    body: dict[str, Any] = response.json()
    return body


def ended(http: httpx.Client, job_id: str) -> dict[str, Any]:
    def check() -> dict[str, Any] | None:
        job: dict[str, Any] = http.get(f"/v1/jobs/{job_id}").json()
        return job if job["status"] in TERMINAL else None

    return wait_for(check, 90, f"job {job_id} to end")


def wall_s(job: dict[str, Any]) -> float:
    start_, end = (datetime.fromisoformat(job[k]) for k in ("created_at", "finished_at"))
    return (end - start_).total_seconds()


def phase_ms(job: dict[str, Any], name: str) -> float:
    return sum(float(p["duration_ms"]) for p in job["phases"] if p["name"] == name)


def test_metrics_move_with_jobs_of_every_process(http: httpx.Client, configure: Any) -> None:
    before = parse(http.get("/metrics").text)
    configure(model="fal-ai/hunyuan-video", fail_rate=1.0)
    ids = [
        submit(http, "local/image", prompt="metrics one")["id"],
        submit(http, "local/image", prompt="metrics two")["id"],
        submit(http, "local/video", prompt="metrics fox", duration=2, resolution="480p")["id"],
        submit(http, "fal-ai/ltx-video", prompt="metrics wave")["id"],
        submit(http, "fal-ai/hunyuan-video", prompt="metrics refused")["id"],
    ]
    jobs = {job["model"] + ("" if job["status"] != "failed" else "!"): job for job in
            (ended(http, i) for i in ids)}  # fmt: skip
    hit = submit(http, "local/image", prompt="metrics one")
    assert hit["status"] == "succeeded"
    assert hit["cache_hit"]
    after = parse(http.get("/metrics").text)

    def grew(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    # Counters: written by the API (the hit), the worker (local), the poller (hosted).
    assert grew("abstrakt_jobs_total", model="local/image", outcome="succeeded") == 3
    assert grew("abstrakt_jobs_total", model="local/video", outcome="succeeded") == 1
    assert grew("abstrakt_jobs_total", model="fal-ai/ltx-video", outcome="succeeded") == 1
    assert grew("abstrakt_jobs_total", model="fal-ai/hunyuan-video", outcome="failed") == 1
    assert grew("abstrakt_cache_requests_total", model="local/image", result="hit") == 1
    assert grew("abstrakt_cache_requests_total", model="local/image", result="miss") == 2
    code = jobs["fal-ai/hunyuan-video!"]["error"]["code"]
    assert grew("abstrakt_provider_errors_total", provider="fal", code=code) == 1

    # Histograms: the end-to-end time and each phase of the very jobs above.
    video = jobs["local/video"]
    labels = {"model": "local/video", "duration": "0-5s", "resolution": "480p"}
    assert grew("abstrakt_job_latency_seconds_count", **labels) == 1
    assert grew("abstrakt_job_latency_seconds_sum", **labels) == pytest.approx(
        wall_s(video), abs=1e-4
    )
    assert grew("video_generation_latency_count", model="local/video", duration="0-5s") == 1
    for name in FIVE:
        assert grew("abstrakt_job_phase_seconds_count", phase=name, **labels) == 1
        assert grew("abstrakt_job_phase_seconds_sum", phase=name, **labels) == pytest.approx(
            phase_ms(video, name) / 1000, abs=1e-6
        )
    hosted = jobs["fal-ai/ltx-video"]  # its generation phase was written by the poller
    assert grew(
        "abstrakt_job_phase_seconds_sum", model="fal-ai/ltx-video", phase="generation"
    ) == pytest.approx(phase_ms(hosted, "generation") / 1000, abs=1e-6)
    assert grew("video_generation_latency_count", model="fal-ai/ltx-video") == 1

    # Each job's own overhead: its wall time less the model's phases.
    served = http.get(f"/v1/jobs/{hit['id']}").json()
    for job in (*jobs.values(), served):
        model_ms = phase_ms(job, "model_loading") + phase_ms(job, "generation")
        assert job["overhead_ms"] == pytest.approx(wall_s(job) * 1000 - model_ms, abs=0.01)
    assert served["overhead_ms"] == pytest.approx(phase_ms(served, "cache_lookup"), abs=0.01)


def test_in_flight_and_circuit_follow_hosted_jobs(http: httpx.Client, configure: Any) -> None:
    configure(model="fal-ai/ltx-video", queue_s=0, generation_s=60)
    job = submit(http, "fal-ai/ltx-video", prompt="metrics slow")
    owner = "metrics-e2e"

    def in_flight() -> bool:
        samples = parse(http.get("/metrics").text)
        running = value(samples, "abstrakt_jobs_in_flight", provider="fal", status="running")
        return running == 1 and value(samples, "abstrakt_key_jobs_in_flight", key=owner) == 1

    wait_for(in_flight, 60, "the hosted job to show in flight")
    assert http.get(f"/v1/jobs/{job['id']}").json()["overhead_ms"] is None  # not ended
    assert http.post(f"/v1/jobs/{job['id']}/cancel").status_code == 200
    ended(http, job["id"])
    samples = parse(http.get("/metrics").text)
    assert value(samples, "abstrakt_jobs_in_flight", provider="fal") == 0

    # Transient failures in a row (written by the worker) reach the circuit's gauges.
    configure(model="fal-ai/hunyuan-video", fault_rate=1.0, faults=["503"])
    failing = submit(http, "fal-ai/hunyuan-video", prompt="metrics unavailable")
    assert ended(http, failing["id"])["error"]["code"] == "provider_unavailable"
    samples = parse(http.get("/metrics").text)
    assert value(samples, "abstrakt_provider_consecutive_failures", provider="fal") >= 3
    assert value(samples, "abstrakt_queue_depth", queue="jobs") == 0  # the worker keeps up
    assert value(samples, "abstrakt_broker_up") == 1
