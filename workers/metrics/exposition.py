"""The families `/metrics` shows, built from the totals and gauges, in Prometheus' text
format. Every label value is bounded: catalog models, providers, kinds, duration and
resolution buckets, phases, outcomes, error codes, queues, and at most `METRICS_TOP_KEYS`
keys plus `other`. No job id, prompt or key secret is ever a label."""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator
from datetime import datetime

from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import (
    CounterMetricFamily,
    GaugeMetricFamily,
    HistogramMetricFamily,
    Metric,
)
from sqlalchemy.orm import Session

from workers.metrics import broker, gauges
from workers.metrics.totals import BUCKETS_S, CumulativeTotals, Histogram, Totals
from workers.webhook.models import DeliveryState

JOB_LABELS = ["model", "provider", "kind", "duration", "resolution"]


def render(session: Session, totals: CumulativeTotals, *, now: datetime, top_keys: int) -> bytes:
    started = time.perf_counter()
    current = totals.current(session, now)
    standing = gauges.read(session, top_keys=top_keys)
    depths = broker.queue_depths()
    families = [*_counters(current), *_histograms(current), *_gauges(standing, depths)]
    took = GaugeMetricFamily(
        "abstrakt_metrics_scrape_seconds", "How long computing this page took (database, broker)."
    )
    took.add_metric([], time.perf_counter() - started)
    return generate_latest(_Fixed([*families, took]))


class _Fixed(CollectorRegistry):
    """A registry holding the families computed for one scrape."""

    def __init__(self, families: list[Metric]) -> None:
        super().__init__(auto_describe=False)
        self._families = families

    def collect(self) -> Iterator[Metric]:
        yield from self._families


def _counters(t: Totals) -> Iterable[Metric]:
    jobs = CounterMetricFamily(
        "abstrakt_jobs",
        "Jobs ended, by model and outcome (succeeded, failed, canceled).",
        labels=["model", "provider", "kind", "outcome"],
    )
    for job_labels, n in sorted(t.jobs.items()):
        jobs.add_metric(list(job_labels), n)
    cache = CounterMetricFamily(
        "abstrakt_cache_requests",
        "Ended jobs by how the cache served them: hit (from a stored result), join (shared "
        "an identical job's generation), miss (generated).",
        labels=["model", "result"],
    )
    for labels, n in sorted(t.cache.items()):
        cache.add_metric(list(labels), n)
    errors = CounterMetricFamily(
        "abstrakt_provider_errors",
        "Hosted jobs that failed, by provider and error code.",
        labels=["provider", "code"],
    )
    for labels, n in sorted(t.provider_errors.items()):
        errors.add_metric(list(labels), n)
    return (jobs, cache, errors)


def _histograms(t: Totals) -> Iterable[Metric]:
    latency = HistogramMetricFamily(
        "abstrakt_job_latency_seconds",
        "End-to-end time (created to finished) of jobs that succeeded by generating.",
        labels=JOB_LABELS,
    )
    video: dict[tuple[str, str], Histogram] = {}
    for labels, hist in sorted(t.latency.items()):
        latency.add_metric(list(labels), _buckets(hist), hist.total_s)
        model, _, kind, duration, _ = labels
        if kind == "video":
            video.setdefault((model, duration), Histogram()).add(hist)
    phases = HistogramMetricFamily(
        "abstrakt_job_phase_seconds",
        "Each recorded phase (queue_wait, model_loading, generation, encoding, upload; "
        "cache_lookup, joined_wait) of ended jobs.",
        labels=[*JOB_LABELS, "phase"],
    )
    for phase_labels, hist in sorted(t.phases.items()):
        phases.add_metric(list(phase_labels), _buckets(hist), hist.total_s)
    # The seed's histogram, under its own name and labels.
    seed = HistogramMetricFamily(
        "video_generation_latency",
        "Time to generate video, in seconds (abstrakt_job_latency_seconds of video jobs).",
        labels=["model", "duration"],
    )
    for (model, duration), hist in sorted(video.items()):
        seed.add_metric([model, duration], _buckets(hist), hist.total_s)
    return (latency, phases, seed)


def _buckets(hist: Histogram) -> list[tuple[str, float]]:
    pairs = [(f"{bound:g}", float(n)) for bound, n in zip(BUCKETS_S, hist.buckets, strict=True)]
    return [*pairs, ("+Inf", float(hist.count))]


def _gauges(g: gauges.Gauges, depths: dict[str, int] | None) -> Iterable[Metric]:
    in_flight = GaugeMetricFamily(
        "abstrakt_jobs_in_flight", "Jobs queued or running now, per provider.",
        labels=["provider", "status"],
    )  # fmt: skip
    for (provider, status), n in sorted(g.in_flight.items()):
        in_flight.add_metric([provider, status], n)
    by_key = GaugeMetricFamily(
        "abstrakt_key_jobs_in_flight",
        "Jobs queued or running now, per key owner (a key's name unless keys share an owner); "
        "the largest METRICS_TOP_KEYS, the rest as `other`.",
        labels=["key"],
    )
    for key, n in sorted(g.in_flight_by_key.items()):
        by_key.add_metric([key], n)
    is_open = GaugeMetricFamily(
        "abstrakt_provider_circuit_open", "1 while the provider's circuit is open, else 0.",
        labels=["provider"],
    )  # fmt: skip
    failures = GaugeMetricFamily(
        "abstrakt_provider_consecutive_failures",
        "Transient failures in a row; the circuit opens at CIRCUIT_FAILURE_THRESHOLD.",
        labels=["provider"],
    )
    for view in g.circuits:
        is_open.add_metric([view.provider], 1.0 if view.circuit == "open" else 0.0)
        failures.add_metric([view.provider], view.consecutive_failures)
    up = GaugeMetricFamily("abstrakt_broker_up", "1 when the broker answered this scrape.")
    up.add_metric([], 0.0 if depths is None else 1.0)
    depth = GaugeMetricFamily(
        "abstrakt_queue_depth", "Messages waiting in each Celery queue.", labels=["queue"]
    )
    for queue, n in sorted((depths or {}).items()):
        depth.add_metric([queue], n)
    ended = CounterMetricFamily(
        "abstrakt_webhook_deliveries",
        "Webhook deliveries that ended: delivered (a 2xx) or failed (the retries ran out).",
        labels=["state"],
    )
    for state in (DeliveryState.DELIVERED, DeliveryState.FAILED):
        ended.add_metric([state], g.webhook_deliveries.get(state, 0))
    pending = GaugeMetricFamily(
        "abstrakt_webhook_deliveries_pending", "Webhook deliveries not answered 2xx yet."
    )
    pending.add_metric([], g.webhook_deliveries.get(DeliveryState.PENDING, 0))
    return (in_flight, by_key, is_open, failures, up, depth, ended, pending)
