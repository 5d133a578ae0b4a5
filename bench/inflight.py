"""Cases 5 and 12: jobs held at once at a provider by one 2-core host, and the status lag.

Jobs are submitted evenly over 95 % of one generation time, so that by then all `count`
jobs are at the emulator together (the first finishes just after the last is sent): the
steady state of a host that keeps `count` jobs in flight. Lag is how long after the
emulator finished a job ours is `succeeded` with its file stored. Beside it, bare Celery
holds the same kind of jobs by blocking a slot each, with prefork x2 and a gevent pool of 200.

Case 5 polls only (2,000 jobs, 60 s each). Case 12 runs the same with provider callbacks
on (10,000 jobs, 300 s each: the same submission rate): an API process receives the
emulator's signed fal callbacks, and the poller is only the fallback (it checks a job at
most every CALLBACK_POLL_INTERVAL_S). The callbacks' settings go to this case's children
alone, never to the bench's own environment.
"""

from __future__ import annotations

import json
import os
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

import httpx
import psutil
import redis
from sqlalchemy import func, select

from bench import env
from bench.env import start_hosted_worker
from bench.result import Result, percentile
from devtools.processes import Children, answers, cli, free_port, wait_for

MODEL = "fal-ai/minimax/video-01"  # catalog typical latency 60 s, like the emulated jobs
HOSTED_THREADS = 16  # `up`'s default (HOSTED_CONCURRENCY)
RAMP = 0.95  # the share of one generation time over which the jobs are sent
FLAT = 1.10  # memory is flat when twice the jobs in flight cost less than 10 % more RSS
CALLBACK_SECRET = "bench-callback-secret"


def _tree_rss_mb(pid: int) -> float:
    try:
        root = psutil.Process(pid)
        procs = [root, *root.children(recursive=True)]
        return sum(p.memory_info().rss for p in procs) / 2**20
    except psutil.NoSuchProcess:
        return 0.0


def _cpu_by_pid(pids: list[int], *, children: bool = True) -> dict[int, float]:
    """CPU seconds so far of each process (and, with `children`, each of its descendants)."""
    seconds: dict[int, float] = {}
    for pid in pids:
        try:
            root = psutil.Process(pid)
            for proc in [root, *(root.children(recursive=True) if children else [])]:
                times = proc.cpu_times()
                seconds[proc.pid] = times.user + times.system
        except psutil.NoSuchProcess:
            pass
    return seconds


def _cores(before: dict[int, float], after: dict[int, float], elapsed_s: float) -> float:
    """Cores used between two readings: a process started since counts whole, one gone
    since is left out (Postgres ends and starts backends as connections come and go)."""
    return round(sum(t - before.get(pid, 0.0) for pid, t in after.items()) / elapsed_s, 2)


def _named(*names: str) -> list[int]:
    return [p.pid for p in psutil.process_iter(["name"]) if p.info["name"] in names]


def _start_emulator(procs: Children, generation_s: float) -> subprocess.Popen[bytes]:
    emulator = procs.start(
        cli(
            "emulate",
            "--port",
            str(env.EMULATOR_PORT),
            "--queue-s",
            "0",
            "--generation-s",
            str(generation_s),
            "--fps",
            "1",
            "--media-scale",
            "0.1",
            # A provider renders on its own machines: one file per size, not one per job.
            "--stock-media",
        ),
        "emulator",
    )
    wait_for(lambda: answers(f"{env.EMULATOR_URL}/_emulator/config"), 60, "the emulator")
    return emulator


@dataclass(frozen=True)
class Callbacks:
    """Case 12's API process (PUBLIC_BASE_URL) and the environment of its worker and poller."""

    api: subprocess.Popen[bytes]
    env: Mapping[str, str]


def _start_callback_api(procs: Children) -> Callbacks:
    """The API that receives the emulator's callbacks, as tests/hosted/test_callbacks.py runs
    it: PROVIDER_CALLBACKS on, fal's keys from the emulator's JWKS, its own URL public."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    child_env = {
        **os.environ,
        "PROVIDER_CALLBACKS": "true",
        "CALLBACK_SECRET": CALLBACK_SECRET,
        "FAL_JWKS_URL": f"{env.EMULATOR_URL}/_emulator/fal/jwks.json",
        "PUBLIC_BASE_URL": url,
    }
    api = procs.start(cli("api", "--host", "127.0.0.1", "--port", str(port)), "api", child_env)
    wait_for(lambda: answers(f"{url}/healthz"), 60, "the API")
    return Callbacks(api, child_env)


def _callback_outcomes() -> tuple[dict[str, int], set[str]]:
    """The emulator's log of the callbacks it made, by what our API answered; and the
    requests whose callback moved the job (answered `applied`)."""
    log = httpx.get(f"{env.EMULATOR_URL}/_emulator/callbacks", timeout=60).json()["callbacks"]
    outcomes: Counter[str] = Counter()
    applied: set[str] = set()
    for entry in log:
        if entry.get("lost"):
            outcome = "lost"
        elif "status_code" not in entry:
            outcome = f"error {entry.get('error')}"
        elif entry["status_code"] == 200:
            outcome = str(json.loads(entry["answer"]).get("outcome"))
        else:
            outcome = f"http {entry['status_code']}"
        outcomes[outcome] += 1
        if outcome == "applied":
            applied.add(entry["request_id"])
    return dict(outcomes), applied


def _ours(
    procs: Children,
    emulator: subprocess.Popen[bytes],
    count: int,
    generation_s: float,
    callbacks: Callbacks | None = None,
) -> dict[str, Any]:
    from workers.db.base import utcnow
    from workers.db.engine import session_scope
    from workers.job import producer
    from workers.job.models import Job, JobEvent
    from workers.job.schemas import JobCreate

    child_env = callbacks.env if callbacks else None
    worker = start_hosted_worker(procs, HOSTED_THREADS, child_env)
    poller = procs.start(cli("poller"), "poller", child_env)
    watched = {"worker": worker.pid, "poller": poller.pid}
    if callbacks:
        watched["api"] = callbacks.api.pid

    samples: list[tuple[float, int, float]] = []  # (t, in flight, watched processes' RSS MB)
    by_role: list[dict[str, float]] = []  # each sample's RSS MB of each watched process
    stop = threading.Event()

    def sample() -> None:
        while not stop.wait(1.0):
            with session_scope() as session:
                held = session.scalar(
                    select(func.count())
                    .select_from(Job)
                    .where(Job.status == "running", Job.submit_state == "submitted")
                )
            rss = {role: _tree_rss_mb(pid) for role, pid in watched.items()}
            samples.append((time.monotonic(), int(held or 0), sum(rss.values())))
            by_role.append(rss)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    roles: dict[str, Callable[[], dict[int, float]]] = {
        "worker": lambda: _cpu_by_pid([worker.pid]),
        "poller": lambda: _cpu_by_pid([poller.pid]),
        **({"api (callbacks in)": lambda: _cpu_by_pid([callbacks.api.pid])} if callbacks else {}),
        "emulator": lambda: _cpu_by_pid([emulator.pid]),
        "postgres": lambda: _cpu_by_pid(_named("postgres")),
        "redis": lambda: _cpu_by_pid(_named("redis-server")),
        # The bench's own process, not its children (every other role is one of them).
        "bench (submitting, sampling)": lambda: _cpu_by_pid([os.getpid()], children=False),
    }
    cpu_before = {role: reading() for role, reading in roles.items()}
    started = time.monotonic()
    for i in range(count):
        delay = started + i * RAMP * generation_s / count - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        producer.submit(JobCreate(model=MODEL, input={"prompt": f"bench {i}"}, cache=False))

    def unfinished() -> int:
        with session_scope() as session:
            open_jobs = session.scalar(
                select(func.count()).select_from(Job).where(Job.finished_at.is_(None))
            )
        return int(open_jobs or 0)

    # Past the deadline the case still reports: what finished, and how many had not.
    drain_deadline = time.monotonic() + generation_s * 2 + 300
    while (left := unfinished()) and time.monotonic() < drain_deadline:
        time.sleep(1.0)
    elapsed = time.monotonic() - started
    cut_at = utcnow()
    cpu = {role: _cores(cpu_before[role], reading(), elapsed) for role, reading in roles.items()}
    stop.set()
    sampler.join()
    with session_scope() as session:
        # Each job from its submission to the provider (from its creation, for a job that
        # never got that far before the deadline).
        rows = session.execute(
            select(
                Job.status,
                Job.finished_at,
                func.coalesce(func.min(JobEvent.created_at), Job.created_at),
                Job.provider_request_id,
            )
            .outerjoin(JobEvent, (JobEvent.job_id == Job.id) & (JobEvent.type == "submitted"))
            .group_by(Job.id)
        ).all()
        # The last provider_status is the one that saw the end (a poll's or a callback's).
        seen_ended = session.execute(
            select(Job.finished_at, func.max(JobEvent.created_at))
            .join(JobEvent, (JobEvent.job_id == Job.id) & (JobEvent.type == "provider_status"))
            .where(Job.status == "succeeded")
            .group_by(Job.id)
        ).all()
        finalize_s = [
            (finished - seen).total_seconds() for finished, seen in seen_ended if finished
        ]
    lag_of = {
        request_id: (finished - submitted).total_seconds() - generation_s
        for status, finished, submitted, request_id in rows
        if status == "succeeded" and finished is not None  # a succeeded job has finished
    }
    lags = list(lag_of.values())
    # A job still open at the deadline has waited at least this long past its end: counted
    # in the percentiles at that bound, so a run cut short is never reported as faster.
    lags_with_open = lags + [
        (cut_at - submitted).total_seconds() - generation_s
        for _, finished, submitted, _ in rows
        if finished is None
    ]
    procs.stop(poller)
    procs.stop(worker)
    first_steady = next(
        (i for i, s in enumerate(samples) if s[0] - started >= generation_s * 0.5), len(samples)
    )
    steady = samples[first_steady:]
    held_max = max(s[1] for s in samples)
    full_held = next(s for s in samples if s[1] == held_max)
    half_held = next(s for s in samples if s[1] >= held_max / 2)
    figures: dict[str, Any] = {"held_max": held_max, "unfinished_at_deadline": left}
    if callbacks:
        # A callback and a poll move a job the same way (`hosted.apply_status`, the same
        # event): the emulator's log tells them apart. A job not finished by a callback
        # our API answered `applied` was finished by a poll.
        outcomes, applied = _callback_outcomes()
        by_callback = [lag for request_id, lag in lag_of.items() if request_id in applied]
        by_poll = [lag for request_id, lag in lag_of.items() if request_id not in applied]
        figures["callbacks"] = outcomes
        figures["finished_by_callback"] = len(by_callback)
        figures["finished_by_poll"] = len(by_poll)
        for name, some in (("callback", by_callback), ("poll", by_poll)):
            if some:
                figures[f"lag_p50_p99_s_by_{name}"] = [percentile(some, 50), percentile(some, 99)]
    return {
        **figures,
        "succeeded": len(lags),
        "jobs": count,
        "lag_p50_s": percentile(lags_with_open, 50),
        "lag_p99_s": percentile(lags_with_open, 99),
        # With jobs left open at the deadline, the lag percentiles are lower bounds.
        "lag_is_lower_bound": left > 0,
        # Of the lag, from the provider's end being recorded to the file stored (finalize).
        "finalize_p50_p99_s": [percentile(finalize_s, 50), percentile(finalize_s, 99)],
        "cores_used_by": cpu,
        # What bounds the case on a small host: every role's CPU for one job, against the
        # budget of all the cores over the jobs a second the case asks for.
        "cpu_ms_per_job": {
            "all": round(sum(cpu.values()) * elapsed * 1000 / count, 1),
            **{role: round(cores * elapsed * 1000 / count, 1) for role, cores in cpu.items()},
        },
        "cpu_ms_per_job_budget": round(
            (os.cpu_count() or 1) * generation_s * RAMP * 1000 / count, 1
        ),
        "rss_roles": " + ".join(watched),
        # Memory per job in flight: the RSS when the most were held against when half as
        # many were, both before the first finishes (a finalize's first-use imports are a
        # one-off step, seen in `rss_mb_over_run`).
        "rss_mb_half_full_held": [round(half_held[2]), round(full_held[2])],
        "rss_flat": full_held[2] <= FLAT * half_held[2],
        "rss_mb_first_last_max": [
            round(steady[0][2]),
            round(steady[-1][2]),
            round(max(s[2] for s in samples)),
        ]
        if steady
        else None,
        "rss_mb_by_role_first_last": {
            role: [round(by_role[first_steady][role]), round(by_role[-1][role])] for role in watched
        }
        if steady
        else None,
        # Ten evenly spaced samples over the whole run: a climb, or a plateau?
        "rss_mb_over_run": [round(s[2]) for s in samples[:: max(1, len(samples) // 10)]],
    }


def _baseline(procs: Children, pool: str, concurrency: int, count: int, window_s: float) -> int:
    from bench.baseline_app import blocking_generate

    client = redis.Redis.from_url(env.BASELINE_BROKER_URL)
    client.delete("baseline:inflight")
    argv = env.baseline_worker(concurrency)
    argv[argv.index("--pool=prefork")] = f"--pool={pool}"
    worker = procs.start(argv, f"baseline-{pool}", env.baseline_env())
    for i in range(count):
        blocking_generate.delay(env.EMULATOR_URL, f"baseline {pool} {i}")
    held, deadline = 0, time.monotonic() + window_s
    while time.monotonic() < deadline:
        held = max(held, int(client.scard("baseline:inflight")))
        time.sleep(0.5)
    procs.stop(worker)
    return held


def _baselines(procs: Children, quick: bool) -> dict[str, int]:
    """Bare Celery on the same emulator: what prefork x2 and gevent x200 hold at once."""
    window_s = 10 if quick else 20
    return {
        "baseline_prefork_x2": _baseline(procs, "prefork", 2, 50, window_s),
        "baseline_gevent_200": _baseline(procs, "gevent", 200, 400, window_s),
    }


def in_flight(procs: Children, quick: bool) -> Result:
    count, generation_s = (200, 10.0) if quick else (2000, 60.0)
    env.reset_state()
    emulator = _start_emulator(procs, generation_s)
    ours = _ours(procs, emulator, count, generation_s)
    baselines = _baselines(procs, quick)
    procs.stop(emulator)  # its port is the next in-flight case's
    return Result(
        "5. in flight",
        "jobs held at once",
        ours["held_max"],
        baselines["baseline_gevent_200"],
        "≥ 2000, lag p99 ≤ 2 s",
        ours["held_max"] >= 2000 and ours["lag_p99_s"] <= 2,
        {**ours, "generation_s": generation_s, **baselines},
    )


def in_flight_callbacks(procs: Children, quick: bool) -> Result:
    """Case 12: case 5 with provider callbacks on, five times the jobs and the time."""
    from workers.settings import get_settings

    count, generation_s = (300, 20.0) if quick else (10_000, 300.0)
    env.reset_state()
    emulator = _start_emulator(procs, generation_s)
    callbacks = _start_callback_api(procs)
    ours = _ours(procs, emulator, count, generation_s, callbacks)
    procs.stop(callbacks.api)
    baselines = _baselines(procs, quick)
    procs.stop(emulator)
    return Result(
        "12. in flight, callbacks",
        "jobs held at once",
        ours["held_max"],
        baselines["baseline_gevent_200"],
        "≥ 10000, lag p99 ≤ 2 s, memory flat",
        ours["held_max"] >= 10_000 and ours["lag_p99_s"] <= 2 and ours["rss_flat"],
        {
            **ours,
            "generation_s": generation_s,
            "callback_poll_interval_s": get_settings().callback_poll_interval_s,
            **baselines,
        },
    )
