"""Providers' callbacks in: real API, worker and poller processes, the emulator calling back.

Each test starts its own processes, since each needs its own poll interval: the API that
receives the callbacks (on a port of its own, which is PUBLIC_BASE_URL), a worker and the
poller. Jobs are created and read through the in-process client, on the same database.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import select

from devtools.processes import Children, answers, cli, free_port, wait_for, worker_answers
from emulator.testing import EmulatorServer
from tests.hosted.conftest import submissions, wait_job
from tests.kill.conftest import phase_rows_consistent
from workers.celery_app import app as celery_app
from workers.db.engine import session_scope
from workers.job.models import JobEvent
from workers.settings import get_settings

pytestmark = pytest.mark.e2e
FAL = "fal-ai/ltx-video"
REPLICATE = "minimax/video-01"
SECRET = "callback-secret-for-tests"

Launch = Callable[..., str]


@pytest.fixture
def launch(
    tmp_path: Path, emulator: EmulatorServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Launch]:
    """Start the API, then the given roles, with callbacks on; returns the API's URL."""
    children = Children(tmp_path)
    monkeypatch.setattr(get_settings(), "provider_callbacks", True)

    def start(*roles: str, **settings: str) -> str:
        port = free_port()
        url = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "PUBLIC_BASE_URL": url,
            "PROVIDER_CALLBACKS": "true",
            "CALLBACK_SECRET": SECRET,
            "FAL_JWKS_URL": f"{emulator.url}/_emulator/fal/jwks.json",
            "REPLICATE_WEBHOOK_SECRET": replicate_secret(emulator),
            **settings,
        }
        children.start(cli("api", "--port", str(port)), "api", env, Path.cwd())
        for role in roles:
            argv = ["worker", "--concurrency", "1"] if role == "worker" else [role]
            children.start(cli(*argv), role, env, Path.cwd())
        wait_for(lambda: answers(f"{url}/healthz"), 60, "the API")
        if "worker" in roles:
            wait_for(lambda: worker_answers(celery_app), 60, "a worker")
        return url

    yield start
    children.stop_all()


def replicate_secret(emulator: EmulatorServer) -> str:
    """The signing secret, asked for as at Replicate (`GET /v1/webhooks/default/secret`)."""
    response = httpx.get(
        f"{emulator.url}/v1/webhooks/default/secret",
        headers={"Authorization": f"Bearer {os.environ['REPLICATE_API_TOKEN']}"},
    )
    key: str = response.json()["key"]
    return key


def callbacks(emulator: EmulatorServer) -> list[dict[str, Any]]:
    log: list[dict[str, Any]] = httpx.get(f"{emulator.url}/_emulator/callbacks").json()["callbacks"]
    return log


def event_types(job_id: str) -> list[str]:
    with session_scope() as session:
        rows = session.scalars(
            select(JobEvent.type).where(JobEvent.job_id == uuid.UUID(job_id)).order_by(JobEvent.seq)
        )
        return list(rows)


def submit(client: TestClient, model: str, prompt: str) -> str:
    job_id: str = client.post(
        "/v1/jobs", json={"model": model, "input": {"prompt": prompt}}
    ).json()["id"]
    return job_id


@pytest.mark.parametrize("model", [FAL, REPLICATE])
def test_a_callback_finishes_the_job_long_before_the_poller_would(
    client: TestClient, emulator: EmulatorServer, launch: Launch, model: str
) -> None:
    launch("worker", "poller", CALLBACK_POLL_INTERVAL_S="120")
    began = time.monotonic()
    job_id = submit(client, model, "called back")
    job = wait_job(client, job_id, timeout_s=30)
    assert job["status"] == "succeeded", job["error"]
    assert time.monotonic() - began < 30  # the first poll was due after 120 s
    assert [(c["status_code"], json.loads(c["answer"])) for c in callbacks(emulator)] == [
        (200, {"outcome": "applied"})
    ]
    assert submissions(emulator) == {model: 1}
    assert "provider_status" in event_types(job_id)
    phase_rows_consistent(job)


def test_duplicated_callbacks_finish_the_job_once(
    client: TestClient, emulator: EmulatorServer, launch: Launch
) -> None:
    emulator.configure(model=FAL, callback_duplicates=2)
    launch("worker", "poller", CALLBACK_POLL_INTERVAL_S="120")
    job_id = submit(client, FAL, "three times")
    job = wait_job(client, job_id, timeout_s=30)
    assert job["status"] == "succeeded", job["error"]
    wait_for(lambda: len(callbacks(emulator)) == 3 or None, 10, "three callbacks")
    outcomes = sorted(json.loads(c["answer"])["outcome"] for c in callbacks(emulator))
    assert outcomes == ["applied", "ignored", "ignored"]
    assert event_types(job_id).count("succeeded") == 1
    assert job["attempts"] == 1
    phase_rows_consistent(job)


def test_a_late_callback_changes_nothing(
    client: TestClient, emulator: EmulatorServer, launch: Launch
) -> None:
    """The poller finishes the job first; the callback that follows is verified, ignored."""
    emulator.configure(model=REPLICATE, callback_delay_s=3)
    launch("worker", "poller", CALLBACK_POLL_INTERVAL_S="0.2")
    job_id = submit(client, REPLICATE, "late")
    job = wait_job(client, job_id, timeout_s=30)
    assert job["status"] == "succeeded", job["error"]
    assert callbacks(emulator) == []  # the poller got there first
    wait_for(lambda: callbacks(emulator) or None, 15, "the late callback")
    [late] = callbacks(emulator)
    assert (late["status_code"], json.loads(late["answer"])) == (200, {"outcome": "ignored"})
    assert event_types(job_id).count("succeeded") == 1
    assert client.get(f"/v1/jobs/{job_id}").json()["finished_at"] == job["finished_at"]


def test_a_lost_callback_falls_back_to_polling(
    client: TestClient, emulator: EmulatorServer, launch: Launch
) -> None:
    emulator.configure(model=FAL, callback_loss_rate=1)
    launch("worker", "poller", CALLBACK_POLL_INTERVAL_S="2")
    job_id = submit(client, FAL, "lost")
    job = wait_job(client, job_id, timeout_s=30)
    assert job["status"] == "succeeded", job["error"]
    assert [c.get("lost") for c in callbacks(emulator)] == [True]
    assert submissions(emulator) == {FAL: 1}


def test_an_unverified_callback_is_refused_and_changes_nothing(
    client: TestClient, emulator: EmulatorServer, launch: Launch, monkeypatch: pytest.MonkeyPatch
) -> None:
    from workers.job.callback.token import token_for

    emulator.configure(model=FAL, callback_loss_rate=1, generation_s=30)
    api = launch("worker", CALLBACK_POLL_INTERVAL_S="120")  # no poller: nothing else moves it
    job_id = submit(client, FAL, "forged")
    job = wait_job(client, job_id, until=lambda j: bool(j["provider"]["request_id"]))
    request_id = job["provider"]["request_id"]
    monkeypatch.setattr(
        get_settings(), "callback_secret", type(get_settings().callback_secret)(SECRET)
    )
    token = token_for(uuid.UUID(job_id), "fal")

    body = json.dumps({"request_id": request_id, "status": "OK", "payload": {}}).encode()
    stamp = str(int(time.time()))
    signed = "\n".join([request_id, "someone", stamp, hashlib.sha256(body).hexdigest()])
    forged = {
        "X-Fal-Webhook-Request-Id": request_id,
        "X-Fal-Webhook-User-Id": "someone",
        "X-Fal-Webhook-Timestamp": stamp,
        "X-Fal-Webhook-Signature": Ed25519PrivateKey.generate().sign(signed.encode()).hex(),
    }
    url = f"{api}/v1/callbacks/fal/{token}"
    assert httpx.post(url, content=body, headers=forged).status_code == 401
    assert httpx.post(url, content=body).status_code == 401  # unsigned
    other = f"{api}/v1/callbacks/fal/{uuid.uuid4().hex}.{token.partition('.')[2]}"
    assert httpx.post(other, content=body, headers=forged).status_code == 404
    assert httpx.post(f"{api}/v1/callbacks/fal/nonsense", content=body).status_code == 404
    replicate_token = token_for(uuid.UUID(job_id), "replicate")
    bad_hmac = {
        "webhook-id": "msg_1",
        "webhook-timestamp": stamp,
        "webhook-signature": "v1," + base64.b64encode(b"x" * 32).decode(),
    }
    response = httpx.post(
        f"{api}/v1/callbacks/replicate/{replicate_token}", content=b"{}", headers=bad_hmac
    )
    assert response.status_code == 401
    after = client.get(f"/v1/jobs/{job_id}").json()
    assert after["status"] == "running"
    assert after["provider"]["status"] == job["provider"]["status"]
    assert "provider_status" not in event_types(job_id)


def test_a_callback_adopts_the_request_a_dead_worker_never_recorded(
    client: TestClient, emulator: EmulatorServer, launch: Launch, tmp_path: Path
) -> None:
    """fal lists no requests, so polling alone submits again after this crash; the
    callback names the request, and the job adopts it: one submission."""
    emulator.configure(model=FAL, callback_delay_s=1)
    api = launch(CALLBACK_POLL_INTERVAL_S="120")
    children = Children(tmp_path / "workers")
    (tmp_path / "workers").mkdir()
    try:
        env = {
            **os.environ,
            "PROVIDER_CALLBACKS": "true",
            "CALLBACK_SECRET": SECRET,
            "PUBLIC_BASE_URL": api,
        }
        doomed = children.start(
            cli("worker", "--pool", "solo"), "doomed", {**env, "CRASH_AT": "after_submit"}
        )
        wait_for(lambda: worker_answers(celery_app), 60, "the doomed worker")
        job_id = submit(client, FAL, "the window")
        assert wait_for(lambda: doomed.poll(), 60, "the worker to die") == -9
        assert client.get(f"/v1/jobs/{job_id}").json()["provider"]["request_id"] is None
        children.start(cli("worker", "--concurrency", "1"), "rescuer", env)
        job = wait_job(client, job_id, timeout_s=30)
    finally:
        children.stop_all()
    assert job["status"] == "succeeded", job["error"]
    assert job["attempts"] == 1
    assert submissions(emulator) == {FAL: 1}
    with session_scope() as session:
        submitted = session.scalars(
            select(JobEvent.payload).where(
                JobEvent.job_id == uuid.UUID(job_id), JobEvent.type == "submitted"
            )
        ).all()
    assert [p.get("adopted") for p in submitted] == [True]
    phase_rows_consistent(job)
