"""Typed errors with the server's own message, and what is retried: a 429 after its
`Retry-After`, a submission whose answer was lost (once: its idempotency key), and a server
without an event stream (polled instead). Faults are injected in the client's HTTP
transport; the server is the real one."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable

import httpx
import pytest

from abstrakt import (
    AbstraktClient,
    AuthenticationError,
    ConflictError,
    InvalidRequestError,
    JobHandle,
    NotFoundError,
    Result,
    StreamUnavailableError,
)
from devtools.processes import wait_for
from tests.client.conftest import make_key
from tests.conftest import table_counts

pytestmark = pytest.mark.e2e

IMAGE = {"input": {"prompt": "a lamp", "resolution": {"width": 64, "height": 64}}}


class Recording(httpx.HTTPTransport):
    """Every request and answer status; optionally loses the first answer to a submission
    (after the server handled it), or answers 404 for the event stream, as an older server."""

    def __init__(self, *, lose_first_submit: bool = False, no_event_stream: bool = False):
        super().__init__()
        self.lose_first_submit = lose_first_submit
        self.no_event_stream = no_event_stream
        self.seen: list[tuple[str, str, int]] = []  # method, path, status (0: lost)
        self.bodies: list[dict[str, object]] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        path = request.url.path
        if request.method == "POST" and path == "/v1/jobs":
            self.bodies.append(json.loads(request.read()))
        if self.no_event_stream and path.endswith("/events"):
            self.seen.append((request.method, path, 404))
            return httpx.Response(404, json={"detail": "Not Found"})
        response = super().handle_request(request)
        if self.lose_first_submit and request.method == "POST" and path == "/v1/jobs":
            self.lose_first_submit = False
            response.read()
            response.close()
            self.seen.append((request.method, path, 0))
            raise httpx.ReadError("the connection was reset (injected)", request=request)
        self.seen.append((request.method, path, response.status_code))
        return response


def test_errors_are_typed_and_carry_the_servers_message(sdk: AbstraktClient, api_url: str) -> None:
    with pytest.raises(InvalidRequestError) as invalid:
        sdk.run("no/such-model", {"input": {"prompt": "x"}})
    assert invalid.value.status_code == 422
    assert "unknown model 'no/such-model'" in invalid.value.message
    assert invalid.value.message.startswith("model: ")

    with AbstraktClient("ak_not-a-key", api_url) as stranger:
        with pytest.raises(AuthenticationError, match="a valid API key is required"):
            stranger.submit("local/image", IMAGE)
        # The WebSocket's refusals are the same exceptions.
        with pytest.raises(AuthenticationError, match="a valid API key is required"):
            next(stranger.stream("local/image", IMAGE))
    with pytest.raises(InvalidRequestError, match="unknown model 'no/such-model'"):
        list(sdk.stream("no/such-model", {"input": {"prompt": "x"}}))

    with pytest.raises(NotFoundError) as missing:
        sdk.get_handle(str(uuid.uuid4())).result(timeout=10)
    assert missing.value.status_code == 404

    handle = sdk.submit("local/image", IMAGE)
    handle.result(timeout=60)
    with pytest.raises(ConflictError):
        handle.cancel()
    with pytest.raises(ValueError, match="input"):
        sdk.submit("local/image", {"prompt": "no input key"})


def test_a_429_is_retried_after_its_retry_after(api_url: str) -> None:
    """A submission, and the opening of a job's event stream, wait out the Retry-After."""
    key = make_key(rpm=60)  # one request back every second once the 60 are spent
    transport = Recording()
    with (
        httpx.Client(headers={"Authorization": f"Bearer {key}"}) as raw,
        AbstraktClient(key, api_url, http_client=httpx.Client(transport=transport)) as client,
    ):

        def refused_first(call: Callable[[], object]) -> Callable[[], float | None]:
            def attempt() -> float | None:
                while raw.get(f"{api_url}/v1/models").status_code != 429:
                    pass  # spend the bucket
                transport.seen.clear()
                started = time.monotonic()
                call()
                # A token may come back between the spending and the call: then again.
                return time.monotonic() - started if transport.seen[0][2] == 429 else None

            return attempt

        handles: list[JobHandle] = []
        elapsed = wait_for(
            refused_first(lambda: handles.append(client.submit("local/image", IMAGE))),
            30,
            "a submission refused once with 429",
        )
        assert [s for _, _, s in transport.seen] == [429, 202]
        assert elapsed >= 1.0  # Retry-After: 1
        assert len({body["idempotency_key"] for body in transport.bodies[-2:]}) == 1

        results: list[Result] = []
        job_id = handles[-1].id
        elapsed = wait_for(
            refused_first(lambda: results.append(client.get_handle(job_id).result(timeout=30))),
            30,
            "an event stream refused once with 429",
        )
        assert [(p, s) for _, p, s in transport.seen] == [
            (f"/v1/jobs/{job_id}/events", 429),
            (f"/v1/jobs/{job_id}/events", 200),
        ]
        assert elapsed >= 1.0
        assert results[-1].images[0].width == 64


def test_a_lost_answer_to_a_submission_makes_one_job(api_url: str, api_key: str) -> None:
    transport = Recording(lose_first_submit=True)
    with AbstraktClient(api_key, api_url, http_client=httpx.Client(transport=transport)) as c:
        result = c.run("local/image", IMAGE, timeout=60)
    assert [(m, s) for m, p, s in transport.seen if p == "/v1/jobs"] == [("POST", 0), ("POST", 200)]
    first, second = transport.bodies
    assert first["idempotency_key"] == second["idempotency_key"]
    assert table_counts()["jobs"] == 1
    assert result.images[0].width == 64


def test_without_an_event_stream_run_polls(api_url: str, api_key: str) -> None:
    transport = Recording(no_event_stream=True)
    with AbstraktClient(api_key, api_url, http_client=httpx.Client(transport=transport)) as c:
        handle = c.submit("local/image", IMAGE)
        with pytest.raises(StreamUnavailableError):
            next(handle.events())
        result = handle.result(timeout=60)
    assert result.images[0].width == 64
    polls = [s for m, p, s in transport.seen if p == f"/v1/jobs/{handle.id}"]
    assert polls
    assert set(polls) == {200}
