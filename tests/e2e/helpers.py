"""A real API process beside a real worker, and a WebSocket client, for the e2e tests."""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from websockets.sync.client import ClientConnection, connect

from devtools.processes import answers, free_port, start, stop, wait_for, worker_answers
from workers.celery_app import app as celery_app

Message = dict[str, Any]
ENDS = ("complete", "error")


@contextmanager
def api_and_worker(logs: Path, **settings: str) -> Iterator[str]:
    """An API process and a worker (`settings` added to their environment, media URLs on
    the API's address); yields the API's base URL, and stops both cleanly at the end."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    env = {**os.environ, "PUBLIC_BASE_URL": url, **settings}
    api = start(["api", "--port", str(port)], env=env, cwd=Path.cwd(), log=logs / "api.log")
    worker = start(
        ["worker", "--concurrency", "2"], env=env, cwd=Path.cwd(), log=logs / "worker.log"
    )

    def ready() -> bool:
        for process, log in ((api, "api.log"), (worker, "worker.log")):
            assert process.poll() is None, (logs / log).read_text()
        return answers(f"{url}/healthz") and worker_answers(celery_app)

    wait_for(ready, 60, "the API and the worker to answer")
    yield url
    # uvicorn ends a clean shutdown by re-raising the SIGTERM it handled
    assert stop(api) in (0, -signal.SIGTERM), (logs / "api.log").read_text()
    assert stop(worker) == 0, (logs / "worker.log").read_text()


class Socket:
    """A WebSocket to `/v1/stream` that reads JSON messages with a deadline."""

    def __init__(self, base: str, **headers: str) -> None:
        url = base.replace("http://", "ws://") + "/v1/stream"
        self._connect = connect(url, additional_headers=headers)
        self.connection: ClientConnection = self._connect.__enter__()

    def send(self, message: Message | str) -> None:
        self.connection.send(message if isinstance(message, str) else json.dumps(message))

    def recv(self, timeout_s: float = 60) -> Message:
        message: Message = json.loads(self.connection.recv(timeout=timeout_s))
        return message

    def until_end(self, job_id: str, timeout_s: float = 90) -> list[Message]:
        """This job's messages up to its `complete` or `error` (others are kept aside)."""
        got: list[Message] = []
        while True:
            message = self.recv(timeout_s)
            if message.get("job_id") != job_id:
                continue
            got.append(message)
            if message["type"] in ENDS:
                return got

    def close(self) -> None:
        self._connect.__exit__(None, None, None)

    def __enter__(self) -> Socket:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()


def seqs(messages: list[Message]) -> list[int]:
    return [m["seq"] for m in messages if "seq" in m]


def progress_values(messages: list[Message]) -> list[int]:
    return [m["progress"] for m in messages if m["type"] == "progress"]
