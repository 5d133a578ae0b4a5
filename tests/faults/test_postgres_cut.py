"""Postgres cut for ~10 s (a proxy of the test's own drops every connection and refuses
new ones) while jobs are submitted and run: every job ends exactly once, the hosted ones
submitted once, and the poller, worker, beat and API are still running afterwards."""

from __future__ import annotations

import os
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy.engine import make_url

from devtools.processes import Children, answers, cli, free_port, wait_for
from devtools.proxy import Mode, Proxy
from emulator.testing import EmulatorServer
from tests.conftest import DATABASE_URL
from tests.faults.helpers import all_job_ids, ended_exactly_once, post_job, says, unfinished
from tests.hosted.conftest import submissions
from workers.db.engine import session_scope
from workers.job import repository

pytestmark = pytest.mark.e2e

CUT_S = 10.0
HOSTED_MODEL = "fal-ai/flux/schnell"
# Once the database is back: a claim that failed is retried within its backoff (≤ 60 s,
# a few seconds for the first retries), an attempt cut mid-way is taken over once its
# lease (2 s here) lapses, a poll cut mid-way within its 60 s poll lease. 90 s bounds it.
BOUND_S = 90.0


def test_a_database_cut_loses_no_job_and_stops_no_process(
    tmp_path: Path,
    api_key: str,
    emulator: EmulatorServer,
    fresh_emulator: None,
    configure: Callable[..., None],
) -> None:
    configure(model=HOSTED_MODEL, queue_s=0.5, generation_s=CUT_S / 2)
    database = make_url(DATABASE_URL)
    assert database.port is not None
    children = Children(tmp_path)
    proxy = Proxy("127.0.0.1", database.port)
    try:
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        env = {
            **os.environ,
            "DATABASE_URL": database.set(port=proxy.port).render_as_string(hide_password=False),
            "PUBLIC_BASE_URL": base,
            "LOCAL_MODEL_LOADING_S": "0.2",
            "LOCAL_GENERATION_S": "0.5",
        }
        try:
            roles = {
                "api": cli("api", "--port", str(port)),
                "worker": cli("worker", "--concurrency", "2"),
                "poller": cli("poller"),
                "beat": cli("beat"),
            }
            running = {
                name: children.start(argv, name, env, tmp_path) for name, argv in roles.items()
            }
            wait_for(lambda: answers(f"{base}/healthz"), 60, "the API")
            wait_for(lambda: says(tmp_path / "worker.log", " ready."), 60, "the worker")

            accepted: list[uuid.UUID] = []
            hosted = [
                _accept(post_job(base, api_key, f"a harbour {i}", HOSTED_MODEL)) for i in range(3)
            ]
            accepted += hosted
            wait_for(lambda: all(_submitted(j) for j in hosted), 60, "the provider to have them")

            stop = threading.Event()
            answered: list[int] = []

            def keep_submitting() -> None:
                i = 0
                while not stop.is_set():
                    i += 1
                    try:
                        response = post_job(base, api_key, f"a kite {i}")
                    except httpx.HTTPError:
                        answered.append(0)
                    else:
                        answered.append(response.status_code)
                        if response.status_code == 202:
                            accepted.append(uuid.UUID(response.json()["id"]))
                    stop.wait(0.2)

            submitter = threading.Thread(target=keep_submitting)
            submitter.start()
            try:
                wait_for(lambda: len(accepted) >= 8, 60, "jobs submitted before the cut")
                proxy.set_mode(Mode.CUT)
                # The outage itself lasts CUT_S: this wait is the scenario, not a race.
                stop.wait(CUT_S)
                proxy.set_mode(Mode.FORWARD)
                restored = time.monotonic()
                wait_for(lambda: answered.count(202) >= len(hosted) + 12, 60, "jobs after the cut")
            finally:
                stop.set()
                submitter.join()
            assert any(code != 202 for code in answered), "the cut refused no request"

            wait_for(
                lambda: not unfinished(all_job_ids()), BOUND_S, "every job to end", interval_s=0.5
            )
            took = time.monotonic() - restored  # 8–9 s on the 2-core CI machine
            for name, process in running.items():
                assert process.poll() is None, (
                    f"{name} exited: {(tmp_path / f'{name}.log').read_text()}"
                )
            assert answers(f"{base}/healthz")
        finally:
            children.stop_all()
    finally:
        proxy.close()
    assert took < BOUND_S
    every = all_job_ids()
    assert set(accepted) <= set(every)
    ended_exactly_once(every)
    assert submissions(emulator) == {HOSTED_MODEL: len(hosted)}
    poller_log = (tmp_path / "poller.log").read_text()
    assert poller_log.count("dependency.down") == 1, poller_log
    assert poller_log.count("dependency.up") == 1, poller_log


def _accept(response: httpx.Response) -> uuid.UUID:
    assert response.status_code == 202, response.text
    return uuid.UUID(response.json()["id"])


def _submitted(job_id: uuid.UUID) -> bool:
    with session_scope() as session:
        job: Any = repository.get(session, job_id)
        return job is not None and job.provider_request_id is not None
