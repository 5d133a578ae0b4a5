"""A real API process whose Postgres goes away (cut) or stops answering (hung), through a
proxy of the test's own: every answer meanwhile is a 503 with Retry-After and a JSON body
within a stated bound, /healthz and /readyz name the database, and it recovers after."""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.engine import make_url

from devtools.processes import free_port, start, stop, wait_for
from devtools.proxy import Mode, Proxy
from tests.conftest import DATABASE_URL
from workers.db.engine import session_scope
from workers.key import service

pytestmark = pytest.mark.e2e

REQUEST_TIMEOUT_S = 4.0
HEALTH_CHECK_TIMEOUT_S = 1.0
# What any answer may take while the database is down, at most: the request timeout, plus
# room for a loaded machine.
BOUND_S = REQUEST_TIMEOUT_S + 3


@pytest.fixture
def proxied_api(tmp_path: Path) -> Iterator[tuple[str, Proxy, dict[str, str]]]:
    database = make_url(DATABASE_URL)
    proxy = Proxy(database.host or "127.0.0.1", database.port or 5432)
    through_proxy = database.set(host="127.0.0.1", port=proxy.port)
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {
        **os.environ,
        "DATABASE_URL": through_proxy.render_as_string(hide_password=False),
        "PUBLIC_BASE_URL": url,
        "DB_CONNECT_TIMEOUT_S": "2",
        "DB_STATEMENT_TIMEOUT_S": "3",
        "DB_POOL_TIMEOUT_S": "2",
        "REQUEST_TIMEOUT_S": str(REQUEST_TIMEOUT_S),
        "HEALTH_CHECK_TIMEOUT_S": str(HEALTH_CHECK_TIMEOUT_S),
        "RETRY_AFTER_S": "3",
        "AUTH_CACHE_S": "0",
    }
    api = start(["api", "--port", str(port)], env=env, cwd=Path.cwd(), log=tmp_path / "api.log")

    def up() -> bool:
        assert api.poll() is None, (tmp_path / "api.log").read_text()
        try:
            return httpx.get(f"{url}/healthz").status_code == 200
        except httpx.TransportError:
            return False

    wait_for(up, 60, "the API to answer")
    with session_scope() as session:
        _, token = service.create(session, name="outage")
    try:
        yield url, proxy, {"Authorization": f"Bearer {token}"}
    finally:
        proxy.set_mode(Mode.FORWARD)
        assert stop(api) in (0, -signal.SIGTERM), (tmp_path / "api.log").read_text()
        proxy.close()


def timed(method: str, url: str, **kwargs: object) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    answer = httpx.request(method, url, timeout=60, **kwargs)  # type: ignore[arg-type]
    return answer, time.monotonic() - started


def assert_unavailable(answer: httpx.Response, elapsed: float) -> None:
    assert answer.status_code == 503, answer.text
    assert int(answer.headers["Retry-After"]) > 0
    assert answer.headers["content-type"].startswith("application/json")
    assert answer.json()["detail"]
    assert elapsed < BOUND_S, f"answered after {elapsed:.1f} s"


JOB = {"model": "local/image", "input": {"prompt": "a lighthouse"}, "cache": False}


@pytest.mark.parametrize("fault", [Mode.CUT, Mode.HANG])
def test_while_the_database_is_away_every_answer_is_a_prompt_503(
    proxied_api: tuple[str, Proxy, dict[str, str]], fault: Mode
) -> None:
    url, proxy, key = proxied_api
    accepted, _ = timed("POST", f"{url}/v1/jobs", json=JOB, headers=key)
    assert accepted.status_code == 202, accepted.text
    job_url = f"{url}/v1/jobs/{accepted.json()['id']}"

    proxy.set_mode(fault)
    for method, path, body in (
        ("POST", f"{url}/v1/jobs", JOB),
        ("GET", job_url, None),
        ("GET", f"{url}/v1/prewarm", None),
    ):
        answer, elapsed = timed(method, path, json=body, headers=key)
        assert_unavailable(answer, elapsed)
    for probe in ("healthz", "readyz"):
        answer, elapsed = timed("GET", f"{url}/{probe}")
        assert_unavailable(answer, elapsed)
        assert elapsed < HEALTH_CHECK_TIMEOUT_S + 2
        checks = answer.json()["checks"]
        assert checks["database"]["ok"] is False
        assert answer.json()["detail"] == "unavailable: database"
        if probe == "healthz":
            assert checks["broker"]["ok"]
            assert checks["storage"]["ok"]

    proxy.set_mode(Mode.FORWARD)

    def recovered() -> bool:
        return httpx.get(f"{url}/healthz", timeout=BOUND_S).status_code == 200

    wait_for(recovered, 30, "the API to see the database again", interval_s=0.2)
    assert httpx.get(job_url, headers=key).json()["status"] in ("queued", "running", "succeeded")
    again = httpx.post(f"{url}/v1/jobs", json=JOB, headers=key)
    assert again.status_code == 202, again.text
