"""Counters and histograms over every job that ever ended, kept cheap to scrape.

They are cumulative, as Prometheus expects (`rate()` and `increase()` work on them), and
additive over time ranges: the figures for jobs that ended in [a, c) are those of [a, b)
plus those of [b, c). So each API process keeps the totals of the jobs that ended before a
mark (`settled`) and moves the mark forward at each scrape; a scrape adds up only the jobs
that ended since the mark, found through the index on `finished_at`. The mark trails the
clock by `SETTLE_S`: a job's `finished_at` is written inside the transaction that ends it,
and a commit landing later than that would otherwise be missed. A process's first scrape
reads the whole table once.
"""

from __future__ import annotations

import re
import threading
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, case, func, select
from sqlalchemy.orm import Session

from workers.job.models import Job, JobPhase
from workers.job.status import TERMINAL
from workers.stats import dims

SETTLE_S = 60.0
# Upper bounds of the latency buckets, in seconds (from a cache hit to a long video).
BUCKETS_S: tuple[float, ...] = (
    0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 20, 30, 60, 90, 120, 180, 300, 600, 1200,
)  # fmt: skip
_CODE = re.compile(r"[a-z][a-z0-9_]{0,39}")

# (model, provider, kind, duration bucket, resolution bucket)
JobLabels = tuple[str, str, str, str, str]


@dataclass
class Histogram:
    """Cumulative bucket counts (one per BUCKETS_S bound), count and sum of seconds."""

    buckets: list[int] = field(default_factory=lambda: [0] * len(BUCKETS_S))
    count: int = 0
    total_s: float = 0.0

    def add(self, other: Histogram) -> None:
        self.buckets = [a + b for a, b in zip(self.buckets, other.buckets, strict=True)]
        self.count += other.count
        self.total_s += other.total_s


@dataclass
class Totals:
    jobs: Counter[tuple[str, str, str, str]] = field(default_factory=Counter)  # + outcome
    cache: Counter[tuple[str, str]] = field(default_factory=Counter)  # (model, hit|join|miss)
    provider_errors: Counter[tuple[str, str]] = field(default_factory=Counter)  # (provider, code)
    latency: dict[JobLabels, Histogram] = field(default_factory=dict)
    phases: dict[tuple[str, str, str, str, str, str], Histogram] = field(default_factory=dict)

    def add(self, other: Totals) -> Totals:
        """A new Totals: self plus other (neither is changed)."""
        out = Totals(
            jobs=self.jobs + other.jobs,
            cache=self.cache + other.cache,
            provider_errors=self.provider_errors + other.provider_errors,
        )
        for mine, theirs, into in (
            (self.latency, other.latency, out.latency),
            (self.phases, other.phases, out.phases),
        ):
            for key, hist in (*mine.items(), *theirs.items()):
                into.setdefault(key, Histogram()).add(hist)
        return out


class CumulativeTotals:
    """One per API process (on the app's state): the settled totals and their mark."""

    def __init__(self, settle_s: float = SETTLE_S) -> None:
        self._settle = timedelta(seconds=settle_s)
        self._lock = threading.Lock()
        self._settled = Totals()
        self._mark: datetime | None = None

    def current(self, session: Session, now: datetime) -> Totals:
        with self._lock:
            mark = now - self._settle
            if self._mark is None:
                self._settled = aggregate(session, None, mark)
                self._mark = mark
            elif mark > self._mark:
                self._settled = self._settled.add(aggregate(session, self._mark, mark))
                self._mark = mark
            return self._settled.add(aggregate(session, self._mark, None))


def aggregate(session: Session, since: datetime | None, until: datetime | None) -> Totals:
    """The totals of the jobs that ended in [since, until) (open ends: unbounded)."""
    ended: list[ColumnElement[bool]] = [Job.status.in_(TERMINAL), Job.finished_at.is_not(None)]
    if since is not None:
        ended.append(Job.finished_at >= since)
    if until is not None:
        ended.append(Job.finished_at < until)
    in_range = and_(*ended)
    totals = Totals()
    _count_jobs(session, in_range, totals)
    labels: list[ColumnElement[str]] = [
        Job.model.expression,
        Job.provider.expression,
        Job.kind.expression,
        dims.duration_bucket(),
        dims.resolution_bucket(),
    ]
    seconds = dims.wall_ms(session) / 1000.0
    latency = (
        select(*labels, *_histogram(seconds)).where(in_range, dims.generated()).group_by(*labels)
    )
    for row in session.execute(latency):
        model, provider, kind, duration, resolution = map(str, row[:5])
        totals.latency[(model, provider, kind, duration, resolution)] = _hist(row[5:])
    phases = (
        select(*labels, JobPhase.name, *_histogram(JobPhase.duration_ms / 1000.0))
        .select_from(Job)
        .join(JobPhase, JobPhase.job_id == Job.id)
        .where(in_range)
        .group_by(*labels, JobPhase.name)
    )
    for row in session.execute(phases):
        model, provider, kind, duration, resolution, phase = map(str, row[:6])
        key = (model, provider, kind, duration, resolution, phase)
        totals.phases[key] = _hist(row[6:])
    return totals


def _count_jobs(session: Session, in_range: ColumnElement[bool], totals: Totals) -> None:
    joined = Job.joined_job_id.is_not(None)
    query = (
        select(
            Job.model,
            Job.provider,
            Job.kind,
            Job.status,
            Job.error_code,
            Job.cache_hit,
            joined,
            func.count(),
        )  # fmt: skip
        .where(in_range)
        .group_by(
            Job.model, Job.provider, Job.kind, Job.status, Job.error_code, Job.cache_hit, joined
        )
    )
    for model, provider, kind, status, code, hit, was_joined, n in session.execute(query):
        totals.jobs[(model, provider, kind, status)] += n
        result = "hit" if hit else "join" if was_joined else "miss"
        totals.cache[(model, result)] += n
        if status == "failed" and provider != "local":
            # Codes are ours or a provider's short identifiers; anything else is `other`,
            # so a provider's free text can never grow the label set.
            label = code if code and _CODE.fullmatch(code) else "other"
            totals.provider_errors[(provider, label)] += n


def _histogram(seconds: ColumnElement[float]) -> list[ColumnElement[Any]]:
    counts = [func.sum(case((seconds <= bound, 1), else_=0)) for bound in BUCKETS_S]
    return [*counts, func.count(), func.sum(seconds)]


def _hist(values: Any) -> Histogram:
    *buckets, count, total = values
    return Histogram(
        buckets=[int(b or 0) for b in buckets], count=int(count), total_s=float(total or 0)
    )
