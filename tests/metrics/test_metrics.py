"""`/metrics` from the rows: counters and histograms against the jobs they count, the
running totals' mark, bounded labels, gauges and the token. In this process; the same
figures moving with jobs of real API, worker and poller processes are proven in
tests/hosted/test_metrics_processes.py."""

from __future__ import annotations

import re
import uuid
from collections import Counter
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pydantic import SecretStr
from sqlalchemy import select

from tests.metrics.scrape import parse, value
from tests.stats.rows import add_jobs
from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.job.models import DEFAULT_OWNER, Job
from workers.metrics.gauges import bounded
from workers.metrics.totals import CumulativeTotals, Histogram, Totals, aggregate
from workers.provider_health import circuit
from workers.queues import Queue
from workers.settings import get_settings
from workers.webhook.models import WebhookDelivery

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-")


def test_counters_and_histograms_count_the_rows(client: TestClient) -> None:
    with session_scope() as session:
        add_jobs(session, owner=DEFAULT_OWNER, count=200, now=utcnow(), seed=7)
        add_jobs(session, owner="another", count=50, now=utcnow(), seed=8)
        jobs = list(session.scalars(select(Job)))
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples = parse(response.text)
    for outcome in ("succeeded", "failed", "canceled"):
        want = sum(j.status == outcome for j in jobs)
        assert value(samples, "abstrakt_jobs_total", outcome=outcome) == want
    hits = sum(j.cache_hit for j in jobs)
    joins = sum(j.joined_job_id is not None for j in jobs)
    assert value(samples, "abstrakt_cache_requests_total", result="hit") == hits
    assert value(samples, "abstrakt_cache_requests_total", result="join") == joins
    failed_hosted = sum(j.status == "failed" and j.provider == "fal" for j in jobs)
    assert value(samples, "abstrakt_provider_errors_total", provider="fal") == failed_hosted
    generated = [
        j for j in jobs if j.status == "succeeded" and not j.cache_hit and not j.joined_job_id
    ]
    assert value(samples, "abstrakt_job_latency_seconds_count") == len(generated)
    wall = sum((j.finished_at - j.created_at).total_seconds() for j in generated if j.finished_at)
    assert value(samples, "abstrakt_job_latency_seconds_sum") == pytest.approx(wall, rel=1e-6)
    video = [j for j in generated if j.kind == "video" and j.model == "local/video"]
    short = [j for j in video if j.input["duration"] <= 5]
    assert value(
        samples, "video_generation_latency_count", model="local/video", duration="0-5s"
    ) == len(short)
    # Buckets are cumulative and end at the count.
    buckets = [
        s
        for s in samples
        if s.name == "abstrakt_job_phase_seconds_bucket"
        and s.labels["model"] == "local/video"
        and s.labels["phase"] == "generation"
        and s.labels["resolution"] == "480p"
    ]
    counts = [s.value for s in buckets]
    assert counts == sorted(counts)
    assert buckets[-1].labels["le"] == "+Inf"
    # Bounded labels only: no job id, no prompt.
    for sample in samples:
        for label in sample.labels.values():
            assert not UUID.match(label), sample
            assert label != "p", sample


def test_the_mark_moves_without_changing_the_totals() -> None:
    """Totals settled before the mark plus those after it equal one pass over every row,
    however far the mark has moved."""
    now = utcnow()
    with session_scope() as session:
        add_jobs(session, owner=DEFAULT_OWNER, count=60, now=now, seed=9, age_s=3 * 3600)
        totals = CumulativeTotals(settle_s=3600)
        first = totals.current(session, now)
        assert_same(first, aggregate(session, None, None))
        add_jobs(session, owner=DEFAULT_OWNER, count=40, now=now + timedelta(hours=1), seed=10)
        later = totals.current(session, now + timedelta(hours=3))  # the mark passes them all
        assert_same(later, aggregate(session, None, None))
        assert sum(later.jobs.values()) == 100


def assert_same(got: Totals, want: Totals) -> None:
    """Equal counts; sums equal but for the order they were added in."""
    assert (got.jobs, got.cache, got.provider_errors) == (
        want.jobs,
        want.cache,
        want.provider_errors,
    )
    pairs: list[tuple[dict[Any, Histogram], dict[Any, Histogram]]] = [
        (got.latency, want.latency),
        (got.phases, want.phases),
    ]
    for mine, theirs in pairs:
        assert mine.keys() == theirs.keys()
        for key, hist in mine.items():
            assert (hist.buckets, hist.count) == (theirs[key].buckets, theirs[key].count)
            assert hist.total_s == pytest.approx(theirs[key].total_s, rel=1e-9)


def test_in_flight_per_provider_and_key_is_bounded(client: TestClient) -> None:
    for prompt in ("a", "b", "c"):
        body = {"model": "local/image", "input": {"prompt": prompt}}
        assert client.post("/v1/jobs", json=body).status_code == 202
    samples = parse(client.get("/metrics").text)
    assert value(samples, "abstrakt_jobs_in_flight", provider="local", status="queued") == 3
    assert value(samples, "abstrakt_key_jobs_in_flight", key=DEFAULT_OWNER) == 3
    assert value(samples, "abstrakt_broker_up") == 1
    assert value(samples, "abstrakt_queue_depth", queue="jobs") == 3  # no worker here
    shown = {s.labels["queue"] for s in samples if s.name == "abstrakt_queue_depth"}
    assert shown == {queue.value for queue in Queue}
    assert bounded(Counter({"a": 5, "b": 3, "c": 1, "d": 1}), 2) == {
        "a": 5,
        "b": 3,
        "other": 2,
    }


def test_circuit_state(client: TestClient) -> None:
    with session_scope() as session:
        for _ in range(2):
            circuit.record_failure(session, "replicate", error="503", threshold=2, open_s=60)
    samples = parse(client.get("/metrics").text)
    assert value(samples, "abstrakt_provider_circuit_open", provider="replicate") == 1
    assert value(samples, "abstrakt_provider_circuit_open", provider="fal") == 0
    assert value(samples, "abstrakt_provider_consecutive_failures", provider="replicate") == 2


def test_a_token_guards_the_page_when_set(
    client: TestClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(get_settings(), "metrics_token", SecretStr("scrape-me"))
    assert client.get("/metrics", headers={"Authorization": ""}).status_code == 401
    wrong = client.get("/metrics", headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 401
    right = client.get("/metrics", headers={"Authorization": "Bearer scrape-me"})
    assert right.status_code == 200


def test_open_without_a_token(client: TestClient) -> None:
    assert client.get("/metrics", headers={"Authorization": ""}).status_code == 200


def test_webhook_deliveries_by_state(client: TestClient) -> None:
    body = {"model": "local/image", "input": {"prompt": "hooked"}}
    job_id = client.post("/v1/jobs", json=body).json()["id"]
    states = ["delivered", "delivered", "failed", "pending"]
    with session_scope() as session:
        for seq, state in enumerate(states, start=1):
            session.add(
                WebhookDelivery(
                    job_id=uuid.UUID(job_id),
                    event="progress",
                    event_seq=seq,
                    url="https://hooks.example/in",
                    signer="tests",
                    body="{}",
                    state=state,
                )
            )
    samples = parse(client.get("/metrics").text)
    assert value(samples, "abstrakt_webhook_deliveries_total", state="delivered") == 2
    assert value(samples, "abstrakt_webhook_deliveries_total", state="failed") == 1
    assert value(samples, "abstrakt_webhook_deliveries_pending") == 1
