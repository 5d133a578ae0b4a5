"""Bare Celery: the baseline every figure is compared with. Same broker, same pool.

`stamp` records when it started (and the send time it was given) so dispatch latency and
throughput can be read back from Redis without a result backend.
"""

from __future__ import annotations

import os
import time

import redis
from celery import Celery

BROKER_URL = os.environ.get("BENCH_BASELINE_BROKER", "redis://127.0.0.1:6379/13")

app = Celery("baseline", broker=BROKER_URL)
app.conf.update(
    task_serializer="json",
    accept_content=["json"],
    task_ignore_result=True,
    task_acks_late=True,
    worker_prefetch_multiplier=1,
    task_default_queue="baseline",
)
_redis = redis.Redis.from_url(BROKER_URL)


@app.task(name="baseline.stamp")
def stamp(sent_at: float) -> None:
    started = time.time()
    _redis.rpush("baseline:stamps", f"{sent_at},{started}")


@app.task(name="baseline.noop")
def noop() -> None:
    _redis.rpush("baseline:done", time.time())


@app.task(name="baseline.blocking_generate")
def blocking_generate(queue_url: str, prompt: str) -> None:
    """What a plain Celery task does with a hosted model: submit, then block until done."""
    import httpx

    client = _redis
    marker = f"{prompt}"
    client.sadd("baseline:inflight", marker)
    try:
        with httpx.Client(headers={"Authorization": "Key bench"}, timeout=30) as http:
            submitted = http.post(f"{queue_url}/fal-ai/minimax/video-01", json={"prompt": prompt})
            status_url = submitted.json()["status_url"]
            while http.get(status_url).json()["status"] != "COMPLETED":
                time.sleep(0.5)
    finally:
        client.srem("baseline:inflight", marker)
