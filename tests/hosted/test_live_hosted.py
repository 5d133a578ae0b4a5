"""Live progress of a hosted job: the provider's own signals reach a WebSocket client."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from devtools.processes import answers, free_port, start, stop, wait_for
from tests.e2e.helpers import Socket, progress_values

pytestmark = pytest.mark.e2e


@pytest.fixture(scope="module")
def api(system: object, logs: Path) -> Iterator[str]:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    process = start(
        ["api", "--port", str(port)], env=os.environ, cwd=Path.cwd(), log=logs / "api.log"
    )

    def ready() -> bool:
        assert process.poll() is None, (logs / "api.log").read_text()
        return answers(f"{url}/healthz")

    wait_for(ready, 60, "the API to answer")
    yield url
    assert stop(process) in (0, -signal.SIGTERM), (logs / "api.log").read_text()


def test_a_fal_jobs_logged_percentages_move_the_bar(
    api: str, api_key: str, configure: Callable[..., None]
) -> None:
    configure(model="fal-ai/ltx-video", generation_s=3.0)
    with Socket(api) as socket:
        socket.send(
            {
                "action": "generate",
                "model": "fal-ai/ltx-video",
                "input": {"prompt": "a glacier calving, aerial"},
                "cache": False,
                "api_key": api_key,
            }
        )
        accepted = socket.recv()
        assert accepted["type"] == "accepted", accepted
        messages = socket.until_end(accepted["job_id"])
    assert messages[-1]["type"] == "complete", messages[-1]
    from_provider = [
        m for m in messages if m["type"] == "progress" and "generating:" in m.get("message", "")
    ]
    assert from_provider, messages  # fal's log lines ("generating: 40%") drove the bar
    assert all(not m.get("estimated") for m in from_provider)
    assert len({m["progress"] for m in from_provider}) > 1
    values = progress_values(messages)
    assert values == sorted(values)
    assert values[-1] == 100
