"""Live progress against a real API process and real workers on Postgres and Redis: the
seed's WebSocket, resumable Server-Sent Events, and a preview first."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from websockets.exceptions import ConnectionClosed

from devtools.processes import cli
from tests.e2e.helpers import Message, Socket, api_and_worker, progress_values, seqs
from workers.db.engine import session_scope
from workers.key import service as keys

pytestmark = pytest.mark.e2e

VIDEO: dict[str, Any] = {
    "model": "local/video",
    "input": {"prompt": "a paper boat on a river", "duration": 2, "resolution": "480p"},
    "cache": False,
}


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """An API process and a worker whose generation takes long enough to be watched."""
    with api_and_worker(
        tmp_path_factory.mktemp("live"), LOCAL_GENERATION_S="1.0", LIVE_PROGRESS_INTERVAL_S="0.1"
    ) as url:
        yield url


@pytest.fixture
def http(base: str, api_key: str) -> Iterator[httpx.Client]:
    headers = {"Authorization": f"Bearer {api_key}"}
    with httpx.Client(base_url=base, headers=headers, timeout=30) as client:
        yield client


def submit(http: httpx.Client, body: dict[str, Any] = VIDEO) -> str:
    response = http.post("/v1/jobs", json=body)
    assert response.status_code == 202, response.text
    job_id: str = response.json()["id"]
    return job_id


def full_log(http: httpx.Client, job_id: str) -> list[Message]:
    """The job's whole stream over SSE, from the start (the job has ended)."""
    return sse(http, job_id)


def sse(http: httpx.Client, job_id: str, **headers: str) -> list[Message]:
    messages: list[Message] = []
    with http.stream("GET", f"/v1/jobs/{job_id}/events", headers=headers) as response:
        assert response.status_code == 200, response.read()
        assert response.headers["content-type"].startswith("text/event-stream")
        fields: dict[str, str] = {}
        for line in response.iter_lines():
            if line == "":
                if "data" in fields:
                    message = json.loads(fields["data"])
                    if "id" in fields:
                        assert int(fields["id"]) == message["seq"]
                    assert fields["event"] == message["type"]
                    messages.append(message)
                fields = {}
            elif not line.startswith(":"):
                name, _, value = line.partition(":")
                fields[name] = value.lstrip(" ")
    return messages


class TestWebSocket:
    def test_generate_streams_rising_progress_a_preview_and_a_playable_video(
        self, base: str, http: httpx.Client, api_key: str
    ) -> None:
        with Socket(base) as socket:
            socket.send({"action": "generate", **VIDEO, "preview": True, "api_key": api_key})
            accepted = socket.recv()
            assert accepted["type"] == "accepted", accepted
            messages = socket.until_end(accepted["job_id"])
        kinds = [m["type"] for m in messages]
        assert kinds[-1] == "complete", messages[-1]
        assert "preview" in kinds[: kinds.index("complete")]
        values = progress_values(messages)
        assert values == sorted(values)
        assert values[-1] == 100
        assert values.count(100) == 1
        # estimates move the bar while the model generates, between the logged phases
        estimated = [m for m in messages if m.get("estimated")]
        assert estimated
        assert all(15 < m["progress"] < 90 for m in estimated)
        assert seqs(messages) == list(range(1, len(seqs(messages)) + 1))
        complete = messages[-1]
        video = http.get(complete["video_url"])
        assert (video.status_code, video.headers["content-type"]) == (200, "video/mp4")
        assert complete["result"]["video"]["url"] == complete["video_url"]
        for preview in (m for m in messages if m["type"] == "preview"):
            assert http.get(preview["frame_url"]).headers["content-type"] == "image/png"

    def test_subscribe_follows_jobs_submitted_over_http_on_one_connection(
        self, base: str, http: httpx.Client, api_key: str
    ) -> None:
        first, second = submit(http), submit(http)
        with Socket(base, Authorization=f"Bearer {api_key}") as socket:
            for job_id in (first, second):
                socket.send({"action": "subscribe", "job_id": job_id})
            ended: dict[str, Message] = {}
            seen: dict[str, list[Message]] = {first: [], second: []}
            while len(ended) < 2:
                message = socket.recv()
                if message["type"] == "subscribed":
                    continue
                seen[message["job_id"]].append(message)
                if message["type"] in ("complete", "error"):
                    ended[message["job_id"]] = message
        assert {m["type"] for m in ended.values()} == {"complete"}
        for job_id in (first, second):
            assert seqs(seen[job_id]) == seqs(full_log(http, job_id))

    def test_resuming_after_a_dropped_connection_has_no_gap_and_no_duplicate(
        self, base: str, http: httpx.Client, api_key: str
    ) -> None:
        job_id = submit(http)
        before: list[Message] = []
        with Socket(base) as socket:
            socket.send({"action": "subscribe", "job_id": job_id, "api_key": api_key})
            assert socket.recv()["type"] == "subscribed"
            while len(seqs(before)) < 3:
                before.append(socket.recv())
        # the connection dropped; the job went on
        with Socket(base) as socket:
            after = seqs(before)[-1]
            socket.send(
                {"action": "subscribe", "job_id": job_id, "after": after, "api_key": api_key}
            )
            assert socket.recv()["type"] == "subscribed"
            rest = socket.until_end(job_id)
        assert rest[-1]["type"] == "complete"
        assert seqs(before) + seqs(rest) == seqs(full_log(http, job_id))
        values = progress_values(rest)
        assert values == sorted(values)
        assert min(values) >= max(progress_values(before))  # no step back across the drop

    def test_cancel_ends_the_jobs_stream_with_an_error(
        self, base: str, http: httpx.Client, api_key: str
    ) -> None:
        with Socket(base) as socket:
            socket.send({"action": "generate", **VIDEO, "api_key": api_key})
            job_id = socket.recv()["job_id"]
            socket.send({"action": "cancel", "job_id": job_id})
            messages = socket.until_end(job_id)
            # the cancel's own answer and the stream's end come in either order
            kinds = [m["type"] for m in messages]
            if "canceled" not in kinds:
                kinds.append(socket.recv()["type"])
        assert messages[-1]["code"] == "canceled"
        assert "canceled" in kinds
        assert http.get(f"/v1/jobs/{job_id}").json()["status"] == "canceled"

    def test_a_bad_message_gets_an_error_and_the_connection_stays_open(
        self, base: str, api_key: str
    ) -> None:
        with Socket(base) as socket:
            socket.send({"action": "ping", "api_key": api_key})
            assert socket.recv() == {"type": "pong"}
            bad: list[tuple[Message | str, str]] = [
                ("{not json", "invalid_message"),
                ("[1, 2]", "invalid_message"),
                ({"action": "dance"}, "unknown_action"),
                ({"action": "subscribe", "job_id": "nope"}, "invalid_message"),
                (
                    {"action": "subscribe", "job_id": "8c1f6e9a-0000-4000-8000-000000000000"},
                    "not_found",
                ),
                ({"action": "generate", "model": "local/video", "input": {}}, "invalid_input"),
                (
                    {
                        "action": "generate",
                        "model": "local/image",
                        "input": {"prompt": "x"},
                        "preview": True,
                    },
                    "invalid_input",
                ),
                (
                    {"action": "generate", "model": "no/such-model", "input": {"prompt": "x"}},
                    "invalid_input",
                ),
            ]
            for message, code in bad:
                socket.send(message)
                answer = socket.recv()
                assert (answer["type"], answer["code"]) == ("error", code), (message, answer)
                assert answer["message"]
            socket.send({"action": "ping"})
            assert socket.recv() == {"type": "pong"}

    def test_a_wrong_key_gets_an_error_and_a_close(self, base: str) -> None:
        with Socket(base) as socket:
            socket.send({"action": "ping", "api_key": "ak_wrong"})
            answer = socket.recv()
            assert (answer["type"], answer["code"]) == ("error", "unauthorized")
            with pytest.raises(ConnectionClosed) as closed:
                socket.recv(timeout_s=10)
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 1008


def test_submit_wait_shows_the_live_progress_in_the_terminal(base: str, api_key: str) -> None:
    command = cli(
        "submit", "local/video", "--prompt", "a paper boat", "--duration", "2", "--wait",
        "--preview", "--api-key", api_key,
    )  # fmt: skip
    env = {**os.environ, "PUBLIC_BASE_URL": base}
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["status"] == "succeeded"
    shown = [int(m) for m in re.findall(r"\]\s+(\d+)%", done.stderr)]
    assert shown == sorted(shown)
    assert shown[-1] == 100
    assert len(set(shown)) > 4  # phases and estimates, not just the start and the end
    assert "preview: " in done.stderr


class TestServerSentEvents:
    def test_a_finished_jobs_stream_replays_and_closes(
        self, base: str, http: httpx.Client, api_key: str
    ) -> None:
        with Socket(base) as socket:
            socket.send({"action": "generate", **VIDEO, "api_key": api_key})
            job_id = socket.recv()["job_id"]
            live = socket.until_end(job_id)
        replayed = sse(http, job_id)
        assert replayed[-1]["type"] == "complete"
        assert seqs(replayed) == seqs(live)

    def test_last_event_id_resumes_with_no_gap_and_no_duplicate(self, http: httpx.Client) -> None:
        job_id = submit(http)
        before: list[Message] = []
        with http.stream("GET", f"/v1/jobs/{job_id}/events") as response:
            for line in response.iter_lines():
                if line.startswith("data:"):
                    before.append(json.loads(line[5:]))
                    if len(seqs(before)) == 2:
                        break  # the client drops the connection
        rest = sse(http, job_id, **{"Last-Event-ID": str(seqs(before)[-1])})
        assert rest[-1]["type"] == "complete"
        assert seqs(before) + seqs(rest) == seqs(full_log(http, job_id))

    def test_another_owners_job_is_404_and_no_key_is_401(
        self, base: str, http: httpx.Client
    ) -> None:
        assert http.get("/v1/jobs/8c1f6e9a-0000-4000-8000-000000000000/events").status_code == 404
        job_id = submit(http)
        with session_scope() as session:
            _, other = keys.create(session, name="someone else", owner="other-team")
        theirs = {"Authorization": f"Bearer {other}"}
        assert httpx.get(f"{base}/v1/jobs/{job_id}/events", headers=theirs).status_code == 404
        with Socket(base, **theirs) as socket:
            socket.send({"action": "subscribe", "job_id": job_id})
            assert socket.recv()["code"] == "not_found"
            socket.send({"action": "cancel", "job_id": job_id})
            assert socket.recv()["code"] == "not_found"
        assert httpx.get(f"{base}/v1/jobs/{job_id}/events").status_code == 401
