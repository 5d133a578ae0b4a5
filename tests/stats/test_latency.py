"""Latency statistics against percentiles computed here, independently, from the rows:
on Postgres (`percentile_cont`) and on SQLite (window functions), over the same jobs."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.stats.rows import FIVE, add_jobs
from workers.cli.main import main
from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.db.models import Base
from workers.job.models import DEFAULT_OWNER, Job, JobPhase
from workers.stats.latency import BadParameter, latency, parse_window
from workers.stats.schemas import LatencyGroup, LatencyStats

OTHER_OWNER = "someone-else"


def expected(session: Session, *, owner: str, start: datetime, end: datetime) -> dict[str, Any]:
    """Per model: counts and numpy's linear percentiles (the definition of
    `percentile_cont`) of wall time and of each phase, from rows read plainly."""
    jobs = session.execute(
        select(Job).where(Job.owner == owner, Job.finished_at >= start, Job.finished_at < end)
    ).scalars()
    out: dict[str, Any] = defaultdict(
        lambda: {"jobs": 0, "failed": 0, "from_cache": 0, "wall": [], "phases": defaultdict(list)}
    )
    for job in jobs:
        group = out[job.model]
        group["jobs"] += 1
        group["failed"] += job.status == "failed"
        served = job.cache_hit or job.joined_job_id is not None
        group["from_cache"] += job.status == "succeeded" and served
        if job.status != "succeeded" or served:
            continue
        assert job.finished_at is not None
        group["wall"].append((job.finished_at - job.created_at).total_seconds() * 1000)
        per_phase: dict[str, float] = defaultdict(float)
        for phase in session.scalars(select(JobPhase).where(JobPhase.job_id == job.id)):
            per_phase[phase.name] += phase.duration_ms
        for name, ms in per_phase.items():
            group["phases"][name].append(ms)
    return out


def quantiles(values: list[float]) -> list[float]:
    return [float(np.percentile(values, q, method="linear")) for q in (50, 90, 99)]


def check(report: LatencyStats, want: dict[str, Any]) -> None:
    got = {g.group["model"]: g for g in report.groups}
    assert set(got) == set(want)
    for model, group in got.items():
        w = want[model]
        assert (group.jobs, group.failed, group.from_cache) == (
            w["jobs"],
            w["failed"],
            w["from_cache"],
        )
        assert group.error_rate == pytest.approx(w["failed"] / w["jobs"], abs=1e-6)
        assert_figures(group, "end_to_end", w["wall"])
        assert set(group.phases) == set(FIVE)
        for name in FIVE:
            assert_figures(group, name, w["phases"][name])


def assert_figures(group: LatencyGroup, measure: str, values: list[float]) -> None:
    figures = group.end_to_end if measure == "end_to_end" else group.phases[measure]
    assert figures is not None
    assert figures.count == len(values)
    got = [figures.p50_ms, figures.p90_ms, figures.p99_ms]
    assert got == pytest.approx(quantiles(values), abs=0.01), measure  # SQLite's clock: ~10 µs


def test_postgres_percentiles_equal_the_rows(client: TestClient) -> None:
    now = utcnow()
    with session_scope() as session:
        add_jobs(session, owner=DEFAULT_OWNER, count=300, now=now, seed=1)
        add_jobs(session, owner=OTHER_OWNER, count=200, now=now, seed=2)  # never counted
        # Ended before the window: not counted either.
        add_jobs(session, owner=DEFAULT_OWNER, count=30, now=now - timedelta(days=2), seed=3)
    response = client.get("/v1/stats/latency", params={"window": "24h", "group_by": "model"})
    assert response.status_code == 200, response.text
    body = response.json()
    report = LatencyStats.model_validate(body | {"start": body["from"], "end": body["to"]})
    with session_scope() as session:
        want = expected(session, owner=DEFAULT_OWNER, start=report.start, end=report.end)
    check(report, want)
    assert sum(g.jobs for g in report.groups) == 300


def test_sqlite_percentiles_equal_the_rows(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'stats.sqlite3'}")
    Base.metadata.create_all(engine)
    now = datetime.now(UTC)
    with Session(engine) as session:
        add_jobs(session, owner="me", count=300, now=now, seed=1)
        add_jobs(session, owner=OTHER_OWNER, count=100, now=now, seed=2)
        session.commit()
        report = latency(session, owner="me", now=now, window="24h", group_by=["model"])
        check(report, expected(session, owner="me", start=report.start, end=report.end))
    engine.dispose()


def test_groups_by_several_dimensions(client: TestClient) -> None:
    with session_scope() as session:
        add_jobs(session, owner=DEFAULT_OWNER, count=120, now=utcnow(), seed=4)
    response = client.get(
        "/v1/stats/latency", params={"group_by": "model,duration,resolution,provider"}
    )
    assert response.status_code == 200, response.text
    groups = {tuple(g["group"].values()): g["jobs"] for g in response.json()["groups"]}
    assert set(groups) == {
        ("local/video", "3", "480p", "local"),
        ("local/video", "5", "720p", "local"),
        ("local/image", "none", "64x64", "local"),
        ("fal-ai/ltx-video", "5", "720p", "fal"),
    }
    assert sum(groups.values()) == 120


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"window": "yesterday"}, "window"),
        ({"window": "0h"}, "window"),
        ({"window": "400d"}, "window"),
        ({"group_by": "model,prompt"}, "group_by"),
        ({"group_by": "model,model"}, "group_by"),
    ],
)
def test_bad_parameters_are_422_naming_them(
    client: TestClient, params: dict[str, str], field: str
) -> None:
    response = client.get("/v1/stats/latency", params=params)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["query", field]


def test_window_parsing() -> None:
    assert parse_window("90s") == timedelta(seconds=90)
    assert parse_window("7d") == timedelta(days=7)
    with pytest.raises(BadParameter):
        parse_window("1w")


def test_cli_prints_a_table_and_json(api_key: str, capsys: pytest.CaptureFixture[str]) -> None:
    printed = capsys
    with session_scope() as session:
        add_jobs(session, owner=DEFAULT_OWNER, count=40, now=utcnow(), seed=5)
    assert main(["stats", "--api-key", api_key, "--group-by", "model,duration"]) == 0
    table = printed.readouterr().out.splitlines()
    assert table[1].split()[:4] == ["model", "duration", "jobs", "errors"]
    assert any(line.split()[:2] == ["local/video", "3"] for line in table)
    assert sum(line.split()[-5:-4] == ["generation"] for line in table) == 4
    assert main(["stats", "--api-key", api_key, "--json"]) == 0
    report = json.loads(printed.readouterr().out)
    assert sum(g["jobs"] for g in report["groups"]) == 40
    assert main(["stats", "--api-key", api_key, "--window", "soon"]) == 2
    assert "--window" in printed.readouterr().err
