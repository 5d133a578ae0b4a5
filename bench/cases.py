"""The benchmark cases. Each returns our figure beside bare Celery's from the same run."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import uuid
from typing import Any

import redis
from sqlalchemy import func, select

from bench import env
from bench.env import start_baseline, start_worker
from bench.inflight import in_flight, in_flight_callbacks
from bench.result import Result, not_yet, percentile
from bench.stats_scale import stats_and_scrape
from bench.streams import streams
from devtools.processes import Children, answers, cli, free_port, wait_for

TINY_IMAGE = {"prompt": "bench", "resolution": {"width": 64, "height": 64}}


def _submit_tiny() -> uuid.UUID:
    from workers.job import producer
    from workers.job.schemas import JobCreate

    # cache=False: every job is generated, as the cases measure the generation path.
    return producer.submit(JobCreate(model="local/image", input=TINY_IMAGE, cache=False)).id


# 1 ────────────────────────────────────────────────────────────────────────────────────────
def _accepted_per_s(
    procs: Children, seconds: float, api_key: str | None, **api_env: str
) -> tuple[float, dict[str, Any]]:
    """POST /v1/jobs from 32 keep-alive clients for `seconds`: 202s per second."""
    port = free_port()
    api = procs.start(cli("api", "--port", str(port)), "api", {**os.environ, **api_env})
    wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz"), 60, "the API")
    body = json.dumps({"model": "local/image", "input": TINY_IMAGE, "cache": False})
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.loadgen",
            f"http://127.0.0.1:{port}/v1/jobs",
            str(seconds),
            "32",
            body,
            *([api_key] if api_key else []),
        ],
        capture_output=True,
        text=True,
        check=True,
    )
    load = json.loads(out.stdout)
    procs.stop(api)
    return load["counts"].get("202", 0) / load["elapsed_s"], load


def accept_rate(procs: Children, seconds: float) -> Result:
    ours, load = _accepted_per_s(procs, seconds, env.new_api_key())

    from bench.baseline_app import stamp

    sent, started = 0, time.monotonic()
    while time.monotonic() - started < seconds:
        stamp.delay(time.time())
        sent += 1
    baseline = sent / (time.monotonic() - started)
    return Result(
        "1. accept rate",
        "jobs/s",
        ours,
        baseline,
        "≥ 1000/s and ≥ 0.5× baseline",
        ours >= 1000 and ours >= 0.5 * baseline,
        {"responses": load["counts"], "concurrency": 32, "seconds": seconds},
    )


# 2 and 3 ─────────────────────────────────────────────────────────────────────────────────
def dispatch_and_overhead(procs: Children, count: int) -> tuple[Result, Result]:
    from workers.db.engine import session_scope
    from workers.job.models import Job, JobPhase

    worker = start_worker(procs, 2)
    waits, overheads = [], []
    for _ in range(count):
        job_id = _submit_tiny()

        def done(job_id: uuid.UUID = job_id) -> bool:
            with session_scope() as session:
                return session.get(Job, job_id).finished_at is not None  # type: ignore[union-attr]

        wait_for(done, 30, "a job")
        with session_scope() as session:
            job = session.get(Job, job_id)
            phases = {
                p.name: p.duration_ms
                for p in session.scalars(select(JobPhase).where(JobPhase.job_id == job_id))
            }
            assert job is not None
            assert job.finished_at is not None
            waits.append(phases["queue_wait"])
            provider_ms = phases["model_loading"] + phases["generation"]
            overheads.append(
                (job.finished_at - job.created_at).total_seconds() * 1000 - provider_ms
            )
    procs.stop(worker)

    from bench.baseline_app import stamp

    baseline = start_baseline(procs, 2)
    client = redis.Redis.from_url(env.BASELINE_BROKER_URL)
    base_waits = []
    for _ in range(count):
        stamp.delay(time.time())
        _, raw = client.blpop(["baseline:stamps"], timeout=30) or (None, b"0,0")
        sent, begun = (float(x) for x in raw.decode().split(","))
        base_waits.append((begun - sent) * 1000)
    procs.stop(baseline)

    p50, p99 = percentile(waits, 50), percentile(waits, 99)
    b50, b99 = percentile(base_waits, 50), percentile(base_waits, 99)
    dispatch = Result(
        "2. dispatch latency",
        "queue_wait p50 ms",
        p50,
        b50,
        "p50 ≤ 5 ms, p99 ≤ 10 ms, ≤ 2× baseline",
        p50 <= 5 and p99 <= 10 and p50 <= 2 * b50,
        {"p99_ms": p99, "baseline_p99_ms": b99, "jobs": count},
    )
    o50, o99 = percentile(overheads, 50), percentile(overheads, 99)
    overhead = Result(
        "3. overhead per job",
        "p50 ms",
        o50,
        None,
        "p50 ≤ 20 ms",
        o50 <= 20,
        {
            "p99_ms": o99,
            "model": "local/image 64×64, zero simulated latency",
            "note": "end-to-end (created → finished) minus model_loading + generation",
        },
    )
    return dispatch, overhead


# 4 and 8 ─────────────────────────────────────────────────────────────────────────────────
def _throughput_ours(procs: Children, count: int, concurrency: int) -> float:
    from workers.db.engine import session_scope
    from workers.job.models import Job

    env.reset_state()
    for _ in range(count):
        _submit_tiny()
    worker = start_worker(procs, concurrency)

    def all_done() -> bool:
        with session_scope() as session:
            finished = session.scalar(
                select(func.count()).select_from(Job).where(Job.status == "succeeded")
            )
        return finished == count

    wait_for(all_done, 600, f"{count} jobs")
    procs.stop(worker)
    with session_scope() as session:
        first, last = session.execute(
            select(func.min(Job.started_at), func.max(Job.finished_at))
        ).one()
    assert first is not None, "every job has started"
    assert last is not None, "every job has finished"
    return count / (last - first).total_seconds()


def _throughput_baseline(procs: Children, count: int, concurrency: int) -> float:
    from bench.baseline_app import noop

    env.reset_state()
    client = redis.Redis.from_url(env.BASELINE_BROKER_URL)
    for _ in range(count):
        noop.delay()
    worker = start_baseline(procs, concurrency)
    wait_for(lambda: client.llen("baseline:done") >= count, 600, f"{count} baseline tasks")
    procs.stop(worker)
    stamps = [float(x) for x in client.lrange("baseline:done", 0, -1)]
    # The first task's own run is in the span: count the tasks after the first.
    return (count - 1) / (max(stamps) - min(stamps))


def throughput(procs: Children, count: int) -> Result:
    ours = _throughput_ours(procs, count, 2)
    baseline = _throughput_baseline(procs, count, 2)
    return Result(
        "4. throughput",
        "jobs/s",
        ours,
        baseline,
        "≥ 250/s and ≥ 0.3× baseline",
        ours >= 250 and ours >= 0.3 * baseline,
        {"jobs": count, "pool": "prefork ×2", "model": "local/image 64×64, zero latency"},
    )


def scaling(procs: Children, count: int) -> Result:
    figures = {k: _throughput_ours(procs, count, k) for k in (1, 2, 4)}
    baselines = {k: _throughput_baseline(procs, count, k) for k in (1, 2, 4)}
    return Result(
        "8. scaling",
        "jobs/s at 1/2/4 processes (shown: 4)",
        figures[4],
        baselines[4],
        "shows how cost grows",
        None,
        {"ours": figures, "baseline": baselines, "jobs": count},
    )


# 6 ───────────────────────────────────────────────────────────────────────────────────────
def cache_hit(procs: Children, count: int) -> Result:
    """A request generated once, then asked again and again through the HTTP API."""
    import asyncio

    from bench.loadgen import timed

    key = env.new_api_key()
    auth = {"Authorization": f"Bearer {key}"}
    port = free_port()
    api = procs.start(cli("api", "--port", str(port)), "api")
    worker = start_worker(procs, 1)
    url = f"http://127.0.0.1:{port}/v1/jobs"
    body = json.dumps({"model": "local/image", "input": {**TINY_IMAGE, "prompt": "cached"}})
    import httpx

    wait_for(lambda: answers(f"http://127.0.0.1:{port}/healthz"), 60, "the API")
    first = httpx.post(
        url, content=body, headers={"Content-Type": "application/json", **auth}
    ).json()
    wait_for(
        lambda: httpx.get(f"{url}/{first['id']}", headers=auth).json()["status"] == "succeeded",
        60,
        "the job",
    )
    asyncio.run(timed(url, body, 50, key))  # warm the connection pools and the Redis copy
    samples = asyncio.run(timed(url, body, count, key))
    procs.stop(worker)
    procs.stop(api)
    statuses = {status for status, _ in samples}
    millis = [seconds * 1000 for _, seconds in samples]
    p50, p99 = percentile(millis, 50), percentile(millis, 99)
    return Result(
        "6. cache hit",
        "p50 ms",
        p50,
        None,
        "p50 ≤ 3 ms, p99 ≤ 10 ms",
        statuses == {201} and p50 <= 3 and p99 <= 10,
        {
            "p99_ms": p99,
            "requests": count,
            "statuses": sorted(statuses),
            "client": "one keep-alive connection, one request at a time",
        },
    )


# 9 ───────────────────────────────────────────────────────────────────────────────────────
def auth_and_limits(procs: Children, seconds: float) -> Result:
    """What a key with every limit costs the accept path, beside auth turned off."""
    limits = {"rpm": 10**9, "max_in_flight": 10**9, "budget_usd": 10**9, "budget_period": "30d"}
    limited, load = _accepted_per_s(procs, seconds, env.new_api_key("limited", **limits))
    env.reset_state()
    open_door, _ = _accepted_per_s(procs, seconds, None, AUTH_DISABLED="true")
    return Result(
        "9. accept with a key and every limit",
        "jobs/s",
        limited,
        open_door,
        "shows the cost (baseline: AUTH_DISABLED)",
        None,
        {"responses": load["counts"], "limits": "rate, in-flight cap, budget"},
    )


ALL_CASES = frozenset(range(1, 13))
NOT_YET: dict[int, tuple[str, str, str, str]] = {}


def run_all(quick: bool, only: frozenset[int] = ALL_CASES) -> list[Result]:
    """Run the chosen cases in order; `quick` shrinks every count for a smoke run."""
    procs = env.processes()
    results: list[Result] = []
    try:
        if 1 in only:
            env.reset_state()
            results.append(accept_rate(procs, 2 if quick else 8))
        if only & {2, 3}:
            env.reset_state()
            results.extend(dispatch_and_overhead(procs, 15 if quick else 100))
        if 4 in only:
            results.append(throughput(procs, 100 if quick else 1000))
        if 5 in only:
            results.append(in_flight(procs, quick))
        if 6 in only:
            env.reset_state()
            results.append(cache_hit(procs, 300 if quick else 3000))
        for number, (case, metric, goal, feature) in NOT_YET.items():
            if number in only:
                results.append(not_yet(case, metric, goal, f"{feature} has not landed"))
        if 7 in only:
            env.reset_state()
            results.extend(streams(procs, quick))
        if 8 in only:
            results.append(scaling(procs, 60 if quick else 400))
        if 9 in only:
            env.reset_state()
            results.append(auth_and_limits(procs, 2 if quick else 8))
        if only & {10, 11}:
            env.reset_state()
            figures = stats_and_scrape(procs, quick)
            results.extend(r for n, r in zip((10, 11), figures, strict=True) if n in only)
        if 12 in only:
            results.append(in_flight_callbacks(procs, quick))
    finally:
        procs.stop_all()
    return results
