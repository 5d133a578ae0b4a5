"""Cases 10 and 11: `GET /v1/stats/latency` and the `/metrics` scrape on a large table.

The jobs are made by Postgres itself (`INSERT … SELECT` over `generate_series`), the
quickest bulk load there is: a million ended jobs over 30 days with five phase rows
each, half of them the benchmark key's (so a 24 h window holds ~17,000 of its jobs
and 7 days ~117,000), the rest spread over 39 other owners.
"""

from __future__ import annotations

import os
import statistics
import time

import httpx
from sqlalchemy import text

from bench import env
from bench.result import Result
from devtools.processes import Children, answers, cli, free_port, wait_for

OWNER = "stats-bench"
MODELS = ("local/video", "local/image", "fal-ai/ltx-video", "veo-3.1")

_JOBS = """
INSERT INTO jobs (id, owner, model, kind, provider, input, status, priority, request_hash,
                  attempts, last_event_seq, source, cache_hit, error_code,
                  created_at, enqueued_at, started_at, finished_at)
SELECT gen_random_uuid(),
       CASE WHEN i % 2 = 0 THEN :owner ELSE 'owner-' || (i % 39) END,
       (ARRAY[:m0, :m1, :m2, :m3])[i % 4 + 1],
       CASE WHEN i % 4 = 1 THEN 'image' ELSE 'video' END,
       (ARRAY['local', 'local', 'fal', 'gemini'])[i % 4 + 1],
       CASE WHEN i % 4 = 1
            THEN jsonb_build_object('prompt', 'p', 'width', 1024, 'height', 1024)
            ELSE jsonb_build_object('prompt', 'p', 'duration', 4 + (i % 3) * 2,
                                    'resolution', (ARRAY['480p', '720p', '1080p'])[i % 3 + 1])
       END,
       CASE WHEN i % 50 = 0 THEN 'failed' ELSE 'succeeded' END,
       5, repeat('0', 64), 1, 6, 'request', i % 25 = 0,
       CASE WHEN i % 50 = 0 THEN 'provider_failed' END,
       end_at - make_interval(secs => 5 + (i % 97)), end_at - make_interval(secs => 5 + (i % 97)),
       end_at - make_interval(secs => 4 + (i % 97)), end_at
FROM (SELECT i, now() - make_interval(secs => i * 2.592) AS end_at
      FROM generate_series(1, :count) AS i) AS s
"""
_PHASES = """
INSERT INTO job_phases (job_id, attempt, name, started_at, duration_ms)
SELECT j.id, 1, p.name, j.created_at,
       p.share * extract(epoch FROM j.finished_at - j.created_at) * 1000
FROM jobs j
CROSS JOIN (VALUES ('queue_wait', 0.05), ('model_loading', 0.15), ('generation', 0.6),
                   ('encoding', 0.15), ('upload', 0.05)) AS p(name, share)
WHERE NOT j.cache_hit
"""


def fill(count: int) -> dict[str, float]:
    """`count` ended jobs and their phases; seconds each step took."""
    from workers.db.engine import get_engine

    took: dict[str, float] = {}
    models = {f"m{i}": model for i, model in enumerate(MODELS)}
    with get_engine().begin() as conn:
        # Filling a million rows is no request: lift DB_STATEMENT_TIMEOUT_S for this one.
        conn.execute(text("SET LOCAL statement_timeout = 0"))
        started = time.monotonic()
        conn.execute(text(_JOBS), {"owner": OWNER, "count": count, **models})
        took["insert_jobs_s"] = time.monotonic() - started
        started = time.monotonic()
        conn.execute(text(_PHASES))
        took["insert_phases_s"] = time.monotonic() - started
    with get_engine().connect() as conn:
        auto = conn.execution_options(isolation_level="AUTOCOMMIT")
        auto.execute(text("SET statement_timeout = 0"))
        auto.execute(text("VACUUM ANALYZE"))
    return {k: round(v, 1) for k, v in took.items()}


def _timed(client: httpx.Client, path: str, repeat: int, **params: str) -> list[float]:
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        response = client.get(path, params=params)
        times.append((time.perf_counter() - started) * 1000)
        response.raise_for_status()
    return times


def stats_and_scrape(procs: Children, quick: bool) -> list[Result]:
    count = 20_000 if quick else 1_000_000
    loaded = fill(count)
    key = env.new_api_key(OWNER)
    port = free_port()
    api = procs.start(cli("api", "--port", str(port)), "api-stats", dict(os.environ))
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: answers(f"{base}/healthz"), 60, "the API")
    headers = {"Authorization": f"Bearer {key}"}
    repeat = 3 if quick else 7
    with httpx.Client(base_url=base, headers=headers, timeout=600) as client:
        day = _timed(client, "/v1/stats/latency", repeat, window="24h", group_by="model")
        week = _timed(
            client, "/v1/stats/latency", repeat, window="7d", group_by="model,duration,resolution"
        )
        counted = client.get("/v1/stats/latency", params={"window": "24h"}).json()
        first = _timed(client, "/metrics", 1)[0]  # this process's first: the whole table
        warm = _timed(client, "/metrics", repeat)
    procs.stop(api)
    detail = {
        "jobs": count,
        "phase_rows": count * 5,
        **loaded,
        "jobs_in_24h_window": sum(g["jobs"] for g in counted["groups"]),
        "24h_by_model_ms": [round(t, 1) for t in day],
        "7d_by_model_duration_resolution_ms": [round(t, 1) for t in week],
    }
    stats = Result(
        "10. latency stats (GET /v1/stats/latency, 24h by model)",
        "median ms",
        statistics.median(day),
        None,
        f"fast on {count:,} jobs",
        None,
        detail | {"7d_median_ms": round(statistics.median(week), 1)},
    )
    scrape = Result(
        "11. /metrics scrape (after the process's first)",
        "median ms",
        statistics.median(warm),
        None,
        "well under a 15 s scrape interval",
        None,
        {"jobs": count, "first_scrape_ms": round(first, 1), "scrapes_ms": [round(t) for t in warm]},
    )
    return [stats, scrape]
