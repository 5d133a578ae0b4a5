"""A batch retried while its first request is still being accepted, and a batch sharing
real workers fairly with another key's single job."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from devtools.processes import wait_for
from tests.batch.test_batches import items
from tests.e2e.helpers import api_and_worker
from workers.batch import producer
from workers.batch.models import Batch
from workers.batch.schemas import BatchCreate
from workers.db.engine import session_scope
from workers.job.models import Job
from workers.key import service as keys
from workers.key.caller import Caller
from workers.settings import get_settings


@pytest.mark.committed
def test_a_retry_while_the_first_request_is_in_progress_gets_the_same_batch() -> None:
    body = BatchCreate.model_validate({"items": items(500), "idempotency_key": "retry-me"})
    together = threading.Barrier(2)

    def send() -> tuple[Any, bool]:
        together.wait()
        return producer.submit(body, caller=Caller(owner="racer"))

    with ThreadPoolExecutor(2) as pool:
        outcomes = list(pool.map(lambda _: send(), range(2)))
    assert outcomes[0][0] == outcomes[1][0]
    assert sorted(created for _, created in outcomes) == [False, True]
    with session_scope() as session:
        assert session.scalar(select(func.count()).select_from(Batch)) == 1
        jobs = session.scalar(select(func.count()).select_from(Job))
    assert jobs == get_settings().batch_window


@pytest.mark.e2e
def test_a_big_batch_holds_back_another_keys_job_by_a_few_jobs_at_most(tmp_path: Path) -> None:
    with session_scope() as session:
        _, batch_key = keys.create(session, name="bulk", owner="bulk")
        _, single_key = keys.create(session, name="interactive", owner="interactive")
    with api_and_worker(tmp_path, LOCAL_GENERATION_S="0.05") as base:
        with (
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {batch_key}"}) as bulk,
            httpx.Client(base_url=base, headers={"Authorization": f"Bearer {single_key}"}) as one,
        ):
            job_id = _single_job_behind_a_batch(bulk, one)
    with session_scope() as session:
        mine = session.get(Job, job_id)
        assert mine is not None
        assert mine.started_at is not None
        ahead = session.scalar(
            select(func.count()).where(
                Job.owner == "bulk",
                Job.created_at < mine.created_at,
                Job.started_at > mine.created_at,
                Job.started_at < mine.started_at,
            )
        )
        overtook = session.scalar(
            select(func.count()).where(
                Job.owner == "bulk",
                Job.created_at > mine.created_at,
                Job.started_at < mine.started_at,
            )
        )
    # Waiting for the batch's window (4) at most, and for the two jobs the worker's two
    # processes had already taken from the queue; nothing released after it goes first.
    assert ahead is not None
    assert ahead <= get_settings().batch_window
    assert overtook is not None
    assert overtook <= 2


def _single_job_behind_a_batch(bulk: httpx.Client, one: httpx.Client) -> str:
    """Start a 200-item batch, then one job of another key once the batch is under way;
    the job's id once it succeeded (the batch is canceled then)."""
    batch_id = bulk.post("/v1/batches", json={"items": items(200)}).json()["id"]

    def under_way() -> bool:
        counts = bulk.get(f"/v1/batches/{batch_id}").json()["counts"]
        return bool(counts.get("succeeded", 0) >= 8)

    wait_for(under_way, 60, "the batch to be well under way")
    job = {"model": "local/image", "input": {"prompt": "now, please"}, "cache": False}
    job_id: str = one.post("/v1/jobs", json=job).json()["id"]

    def succeeded() -> bool:
        return bool(one.get(f"/v1/jobs/{job_id}").json()["status"] == "succeeded")

    wait_for(succeeded, 60, "the single job to finish")
    bulk.post(f"/v1/batches/{batch_id}/cancel")
    return job_id
