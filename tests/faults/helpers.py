"""What the fault tests check after the fault: every job ended once, its phases whole."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import httpx
from sqlalchemy import select

from tests.kill.conftest import phase_rows_consistent
from workers.db.engine import session_scope
from workers.job import repository
from workers.job.models import Job, JobEvent

TERMINAL = ("succeeded", "failed", "canceled")


def all_job_ids() -> list[uuid.UUID]:
    with session_scope() as session:
        return list(session.scalars(select(Job.id)))


def unfinished(job_ids: Iterable[uuid.UUID]) -> list[uuid.UUID]:
    ids = list(job_ids)
    with session_scope() as session:
        rows = session.execute(select(Job.id, Job.status).where(Job.id.in_(ids))).all()
    assert len(rows) == len(ids), "a job the test saw is missing from the database"
    return [job_id for job_id, status in rows if status not in TERMINAL]


def ended_exactly_once(job_ids: Iterable[uuid.UUID]) -> None:
    """Each job succeeded, with one ending in its log and consistent phase rows."""
    with session_scope() as session:
        for job_id in job_ids:
            job = repository.get(session, job_id)
            assert job is not None
            kinds = list(
                session.scalars(
                    select(JobEvent.type).where(JobEvent.job_id == job_id).order_by(JobEvent.seq)
                )
            )
            assert [k for k in kinds if k in TERMINAL] == ["succeeded"], (job_id, kinds)
            assert job.status == "succeeded", (job_id, job.status, job.error_message)
            phases = repository.phases_of(session, job_id)
            view: dict[str, Any] = {
                "attempts": job.attempts,
                "phases": [{"attempt": p.attempt, "name": p.name} for p in phases],
            }
            phase_rows_consistent(view)


def post_job(base: str, key: str, prompt: str, model: str = "local/image") -> httpx.Response:
    body: dict[str, Any] = {"model": model, "input": {"prompt": prompt}, "cache": False}
    if model == "local/image":
        body["input"]["resolution"] = {"width": 64, "height": 64}
    return httpx.post(
        f"{base}/v1/jobs", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10
    )


def says(log: Path, text: str) -> bool:
    return log.exists() and text in log.read_text(errors="replace")
