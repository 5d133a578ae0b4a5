"""Webhooks end to end: the API, a real job worker, a real webhook worker (threads, on its
own queue) and a real receiver on loopback."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from standardwebhooks import Webhook

from devtools.processes import start, stop, wait_for
from tests.webhook.receiver import HANG, Receiver
from workers.celery_app import app as celery_app

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("allow_loopback", "workers")]

ENV = {
    "WEBHOOK_ALLOWLIST": "127.0.0.1/32",
    "WEBHOOK_TIMEOUT_S": "10",
    "WEBHOOK_RETRY_SCHEDULE_S": json.dumps([0.2, 0.2, 0.2]),
}


@pytest.fixture(scope="module")
def workers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    logs = tmp_path_factory.mktemp("webhook-workers")
    env = {**os.environ, **ENV}
    jobs = start(["worker", "--concurrency", "2"], env=env, cwd=Path.cwd(), log=logs / "jobs.log")
    hooks = start(
        ["worker", "--queues", "webhooks", "--pool", "threads", "--concurrency", "4"]
        + ["--hostname", "webhooks@%h"],
        env=env,
        cwd=Path.cwd(),
        log=logs / "hooks.log",
    )

    def ready() -> bool:
        for process, name in ((jobs, "jobs"), (hooks, "hooks")):
            assert process.poll() is None, (logs / f"{name}.log").read_text()
        return len(celery_app.control.ping(timeout=0.5)) >= 2

    wait_for(ready, 60, "both workers to answer a ping")
    yield
    for process, name in ((hooks, "hooks"), (jobs, "jobs")):
        assert stop(process) == 0, (logs / f"{name}.log").read_text()


def submit(client: TestClient, url: str, events: list[str] | None = None) -> str:
    response = client.post(
        "/v1/jobs",
        json={
            "model": "local/image",
            "input": {"prompt": f"webhook e2e {url}"},
            "cache": False,
            "webhook_url": url,
            "webhook_events": events,
        },
    )
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


def deliveries(client: TestClient, job_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = client.get(f"/v1/jobs/{job_id}/webhooks").json()["deliveries"]
    return found


def status(client: TestClient, job_id: str) -> str:
    value: str = client.get(f"/v1/jobs/{job_id}").json()["status"]
    return value


def test_a_job_posts_its_signed_events_and_retries_a_500(
    client: TestClient, receiver: Receiver
) -> None:
    receiver.plan("/hook", 500)
    job_id = submit(client, receiver.url(), ["started", "completed"])

    def all_delivered() -> list[dict[str, Any]] | None:
        found = deliveries(client, job_id)
        done = len(found) == 2 and all(d["state"] == "delivered" for d in found)
        return found if done else None

    found = wait_for(all_delivered, 60, "both events delivered")
    assert [d["event"] for d in found] == ["started", "completed"]
    assert sorted(d["attempts"] for d in found) == [1, 2]  # one of them met the 500
    secret = client.get("/v1/webhooks/default/secret").json()["key"]
    got = receiver.received()
    assert [r.answered for r in got].count(200) == 2
    assert {r.headers["webhook-id"] for r in got} == {d["webhook_id"] for d in found}
    payloads = [Webhook(secret).verify(r.body, r.headers) for r in got if r.answered == 200]
    completed = next(p for p in payloads if p["type"] == "job.completed")
    assert completed["data"] == client.get(f"/v1/jobs/{job_id}").json()
    assert completed["data"]["status"] == "succeeded"


def test_a_hanging_receiver_delays_neither_jobs_nor_other_receivers(
    client: TestClient, receiver: Receiver
) -> None:
    receiver.plan("/slow", HANG, HANG, HANG, HANG)
    slow_job = submit(client, receiver.url("/slow"), ["started", "completed"])
    wait_for(lambda: len(receiver.received("/slow")) > 0, 60, "the slow receiver to be called")
    # The job ends while its own `started` webhook is still held by the receiver.
    wait_for(lambda: status(client, slow_job) == "succeeded", 60, "the slow job to succeed")
    assert [r.answered for r in receiver.received("/slow")][0] is None

    fast_job = submit(client, receiver.url("/fast"))
    wait_for(lambda: len(receiver.received("/fast")) > 0, 60, "the other receiver's webhook")
    assert status(client, fast_job) == "succeeded"
    [fast] = deliveries(client, fast_job)
    wait_for(lambda: deliveries(client, fast_job)[0]["state"] == "delivered", 30, "fast delivered")
    assert fast["event"] == "completed"
    # Meanwhile the slow receiver still holds its first request: no attempt of the slow
    # job's webhooks has even finished.
    assert receiver.received("/slow")[0].answered is None
    assert all(d["log"] == [] for d in deliveries(client, slow_job))
