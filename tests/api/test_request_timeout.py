"""A request whose work blocks past REQUEST_TIMEOUT_S gets 503 with Retry-After at the
deadline; a stream that has begun is not cut; a route may extend its own deadline."""

from __future__ import annotations

import threading
import time
from collections.abc import AsyncIterator

from fastapi import FastAPI, Request
from fastapi.responses import StreamingResponse
from fastapi.testclient import TestClient

from api.timeout import RequestTimeout, allow_more

TIMEOUT_S = 0.5


def app_with(release: threading.Event) -> FastAPI:
    app = FastAPI()
    app.add_middleware(RequestTimeout, timeout_s=TIMEOUT_S, retry_after_s=7)

    @app.get("/blocked")
    def blocked() -> dict[str, str]:
        release.wait(30)  # a blocking call, as a hung database read is
        return {"late": "yes"}

    @app.get("/extended")
    async def extended(request: Request) -> dict[str, str]:
        allow_more(request, 5)
        while not release.is_set():
            await _tick()
        return {"waited": "on purpose"}

    @app.get("/stream")
    async def stream() -> StreamingResponse:
        async def chunks() -> AsyncIterator[bytes]:
            for _ in range(3):
                yield b"x"
                await _tick(TIMEOUT_S)

        return StreamingResponse(chunks())

    return app


async def _tick(seconds: float = 0.02) -> None:
    import asyncio

    await asyncio.sleep(seconds)


def test_a_blocked_request_gets_503_at_the_deadline() -> None:
    release = threading.Event()
    with TestClient(app_with(release)) as client:
        started = time.monotonic()
        answer = client.get("/blocked")
        elapsed = time.monotonic() - started
        release.set()
    assert answer.status_code == 503
    assert answer.headers["Retry-After"] == "7"
    assert "REQUEST_TIMEOUT_S" in answer.json()["detail"]
    assert TIMEOUT_S <= elapsed < TIMEOUT_S + 2


def test_a_route_may_wait_longer_on_purpose() -> None:
    release = threading.Event()
    timer = threading.Timer(TIMEOUT_S * 2, release.set)
    timer.start()
    with TestClient(app_with(release)) as client:
        answer = client.get("/extended")
    timer.join()
    assert answer.status_code == 200
    assert answer.json() == {"waited": "on purpose"}


def test_a_begun_stream_is_not_cut() -> None:
    with TestClient(app_with(threading.Event())) as client:
        answer = client.get("/stream")
    assert (answer.status_code, answer.content) == (200, b"xxx")
