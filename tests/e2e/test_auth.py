"""API keys across real API processes: a revocation reaches every process within
AUTH_CACHE_S, and one key's request rate holds across processes (one shared bucket)."""

from __future__ import annotations

import math
import os
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools.processes import free_port, start, stop, wait_for
from workers.cli.main import main
from workers.db.engine import session_scope
from workers.key import service
from workers.key.service import Limits

pytestmark = pytest.mark.e2e

AUTH_CACHE_S = 1.0


@pytest.fixture
def two_apis(tmp_path: Path) -> Iterator[list[str]]:
    env = {**os.environ, "AUTH_CACHE_S": str(AUTH_CACHE_S)}
    ports = [free_port(), free_port()]
    processes = [
        start(["api", "--port", str(port)], env=env, cwd=Path.cwd(), log=tmp_path / f"api{i}.log")
        for i, port in enumerate(ports)
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]

    def up() -> bool | None:
        for process, url in zip(processes, urls, strict=True):
            assert process.poll() is None
            try:
                httpx.get(f"{url}/healthz", timeout=2).raise_for_status()
            except httpx.HTTPError:
                return None
        return True

    wait_for(up, 60, "both API processes to answer")
    yield urls
    for process in processes:
        stop(process)


def test_a_revocation_reaches_every_api_process(two_apis: list[str]) -> None:
    with session_scope() as session:
        _, token = service.create(session, name="soon-revoked")
    headers = {"Authorization": f"Bearer {token}"}
    for url in two_apis:
        assert httpx.get(f"{url}/v1/models", headers=headers).status_code == 200
    assert main(["keys", "revoke", "soon-revoked"]) == 0
    revoked_at = time.monotonic()
    for url in two_apis:

        def refused(url: str = url) -> bool | None:
            return httpx.get(f"{url}/v1/models", headers=headers).status_code == 401 or None

        wait_for(refused, AUTH_CACHE_S + 5, f"{url} to refuse the revoked key")
    assert time.monotonic() - revoked_at < AUTH_CACHE_S + 5


def test_one_keys_rate_holds_across_two_processes(two_apis: list[str]) -> None:
    rpm = 30
    with session_scope() as session:
        _, token = service.create(session, name="rated", limits=Limits(rpm=rpm))
    headers = {"Authorization": f"Bearer {token}"}
    started = time.monotonic()
    answers = [httpx.get(f"{two_apis[i % 2]}/v1/models", headers=headers) for i in range(2 * rpm)]
    elapsed = time.monotonic() - started
    admitted = [a for a in answers if a.status_code == 200]
    refused = [a for a in answers if a.status_code == 429]
    assert len(admitted) + len(refused) == len(answers)
    # The bucket holds `rpm` and refills at rpm per minute: what the two processes admit
    # together never exceeds that, whichever process each request reached.
    assert rpm <= len(admitted) <= rpm + math.ceil(elapsed * rpm / 60)
    both = {str(a.url).split("/v1")[0] for a in admitted}
    assert both == set(two_apis)
    limited = refused[0]
    assert int(limited.headers["Retry-After"]) >= 1
    assert limited.headers["RateLimit-Limit"] == str(rpm)
    assert limited.headers["RateLimit-Remaining"] == "0"
    assert "30 requests per minute" in limited.json()["detail"]
    assert admitted[0].headers["RateLimit-Remaining"] == str(rpm - 1)
