"""The dashboard's time series and in-flight list, against counts made here from the rows:
on Postgres and on SQLite."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select
from sqlalchemy.orm import Session

from tests.stats.rows import add_jobs
from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.db.models import Base
from workers.job.models import DEFAULT_OWNER, Job, JobPhase
from workers.stats.activity import activity
from workers.stats.schemas import Activity

OTHER_OWNER = "someone-else"


def check(session: Session, report: Activity, owner: str) -> None:
    """Each bucket holds exactly the owner's jobs that ended in it, counted plainly."""
    width = timedelta(seconds=report.bucket_s)
    jobs = session.scalars(
        select(Job).where(
            Job.owner == owner, Job.finished_at >= report.start, Job.finished_at < report.end
        )
    ).all()
    assert sum(b.jobs for b in report.series) == len(jobs)
    for bucket in report.series:
        inside = [
            j
            for j in jobs
            if j.finished_at is not None and bucket.start <= j.finished_at < bucket.start + width
        ]
        assert bucket.jobs == len(inside), bucket
        assert bucket.failed == sum(j.status == "failed" for j in inside)
        assert bucket.succeeded == sum(j.status == "succeeded" for j in inside)
        served = [j for j in inside if j.status == "succeeded" and (j.cache_hit or j.joined_job_id)]
        assert bucket.from_cache == len(served)
    succeeded = sum(j.status == "succeeded" for j in jobs)
    assert report.cache.from_cache + report.cache.generated == succeeded
    assert report.cache.hit_rate == round(report.cache.from_cache / succeeded, 6)


def test_postgres_buckets_equal_the_rows(client: TestClient) -> None:
    now = utcnow()
    with session_scope() as session:
        add_jobs(session, owner=DEFAULT_OWNER, count=200, now=now, seed=11)
        add_jobs(session, owner=OTHER_OWNER, count=50, now=now, seed=12)  # never counted
    answer = client.get("/v1/stats/activity", params={"window": "1h", "buckets": 12})
    assert answer.status_code == 200, answer.text
    report = Activity.model_validate(
        {**answer.json(), "start": answer.json()["from"], "end": answer.json()["to"]}
    )
    assert len(report.series) == 12
    with session_scope() as session:
        check(session, report, DEFAULT_OWNER)


def test_sqlite_buckets_equal_the_rows(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'activity.sqlite3'}")
    Base.metadata.create_all(engine)
    now = datetime.now(UTC)
    with Session(engine) as session:
        add_jobs(session, owner="me", count=200, now=now, seed=13)
        add_jobs(session, owner=OTHER_OWNER, count=50, now=now, seed=14)
        session.commit()
        report = activity(session, owner="me", now=now, window="1h", buckets=7)
        check(session, report, "me")


def test_in_flight_jobs_show_their_phase(tmp_path: Path) -> None:
    engine = create_engine(f"sqlite:///{tmp_path / 'flight.sqlite3'}")
    Base.metadata.create_all(engine)
    now = datetime.now(UTC)
    with Session(engine) as session:
        queued, running = uuid.uuid4(), uuid.uuid4()
        for job_id, status in ((queued, "queued"), (running, "running")):
            session.add(
                Job(
                    id=job_id,
                    owner="me",
                    model="local/video",
                    kind="video",
                    status=status,
                    input={"prompt": "p"},
                    request_hash="0" * 64,
                    attempts=1,
                    created_at=now - timedelta(seconds=5),
                )
            )
        session.flush()
        for name in ("queue_wait", "model_loading"):
            session.add(
                JobPhase(job_id=running, attempt=1, name=name, started_at=now, duration_ms=10.0)
            )
        session.commit()
        shown = {
            j.id: j
            for j in activity(session, owner="me", now=now, window="1h", buckets=4).in_flight
        }
        assert (shown[queued].phase, shown[queued].progress) == ("queue_wait", 0)
        assert (shown[running].phase, shown[running].progress) == ("generation", 15)
        assert activity(session, owner="other", now=now, window="1h", buckets=4).in_flight == []
