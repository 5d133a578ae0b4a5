"""The WebSocket's per-connection cap: one more job is refused before anything is written."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from api.routes import stream
from tests.job.helpers import submit
from workers.db.engine import session_scope
from workers.job.models import Job

pytestmark = pytest.mark.committed  # the hub reads the log from threads of its own


def job_count() -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(Job)) or 0


def test_a_connection_past_its_cap_is_refused_before_any_job_is_made(
    client: TestClient, api_key: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stream, "MAX_JOBS_PER_CONNECTION", 2)
    first, second, third = (str(submit()) for _ in range(3))
    with client.websocket_connect("/v1/stream") as socket:
        socket.send_json({"action": "subscribe", "job_id": first, "api_key": api_key})
        socket.send_json({"action": "subscribe", "job_id": second})
        socket.send_json({"action": "subscribe", "job_id": first})  # already followed: fine
        socket.send_json({"action": "subscribe", "job_id": third})
        before = job_count()
        socket.send_json({"action": "generate", "model": "local/image", "input": {"prompt": "x"}})
        refusals: list[dict[str, str]] = []
        while len(refusals) < 2:
            message = socket.receive_json()
            if message["type"] == "error":
                refusals.append(message)
        assert [m["code"] for m in refusals] == ["too_many_jobs", "too_many_jobs"]
        assert "at most 2 jobs" in refusals[0]["message"]
        assert job_count() == before
