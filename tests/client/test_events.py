"""A handle's `events()`: the job's messages in order, resumed without gap or duplicate
after leaving the loop or after the connection drops, on the sync and the async client."""

from __future__ import annotations

import asyncio
import re
from itertools import islice

import pytest

from abstrakt import (
    AbstraktClient,
    AsyncAbstraktClient,
    CompleteEvent,
    Event,
    PreviewEvent,
    ProgressEvent,
)
from tests.client.proxy import cutting_proxy

pytestmark = pytest.mark.e2e

VIDEO = {"input": {"prompt": "a heron", "duration": 3}}
# Seconds of rendering at least: still running when a test cuts its stream.
SLOW_VIDEO = {"input": {"prompt": "slow", "duration": 10, "resolution": "1080p"}}


def seqs(events: list[Event]) -> list[int]:
    return [e.seq for e in events if e.seq is not None]


def check_whole_log(events: list[Event]) -> None:
    """Every durable message once, in order from 1; progress never back; complete last."""
    assert seqs(events) == list(range(1, len(seqs(events)) + 1))
    progress = [e.progress for e in events if isinstance(e, ProgressEvent)]
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert isinstance(events[-1], CompleteEvent)
    assert sum(isinstance(e, CompleteEvent) for e in events) == 1


def test_events_in_order_and_resumed_from_the_handle(sdk: AbstraktClient) -> None:
    handle = sdk.submit("local/video", VIDEO, preview=True)
    first = list(islice(handle.events(), 2))  # leave the loop early ...
    assert handle.last_seq == max(seqs(first))
    rest = list(handle.events())  # ... and go on from the handle: no gap, no duplicate
    events = first + rest
    check_whole_log(events)
    assert [e.phase for e in events if isinstance(e, ProgressEvent)][0] == "queue_wait"
    assert any(isinstance(e, PreviewEvent) and e.frame_url for e in events)
    complete = events[-1]
    assert isinstance(complete, CompleteEvent)
    assert complete.job_id == handle.id
    assert complete.video_url == complete.result.video.url
    assert handle.last_seq == complete.seq
    assert list(handle.events()) == []  # the job's stream has ended
    assert list(sdk.get_handle(handle.id).events(after=handle.last_seq)) == []
    assert seqs(list(handle.events(after=0))) == seqs(events)  # a replay from the start


def stream_requests(sent: list[bytes]) -> list[dict[str, str]]:
    """The headers of each `GET …/events` the client sent, in order."""
    heads = (
        m.group(1)
        for data in sent
        for m in re.finditer(rb"GET /v1/jobs/[^ ]+/events HTTP/1.1\r\n(.*?)\r\n\r\n", data, re.S)
    )
    return [dict(line.lower().split(": ", 1) for line in h.decode().split("\r\n")) for h in heads]


def test_events_reconnect_after_the_connection_drops(api_url: str, api_key: str) -> None:
    with cutting_proxy(api_url) as proxy, AbstraktClient(api_key, proxy.url) as client:
        handle = client.submit("local/video", SLOW_VIDEO)
        events: list[Event] = []
        for event in handle.events():
            events.append(event)
            if len(seqs(events)) == 2 and len(stream_requests(proxy.requests)) == 1:
                proxy.cut()  # the job is still rendering: its stream has more to come
        check_whole_log(events)
        streams = stream_requests(proxy.requests)
    # One more connection, asking for what followed the last message the first delivered.
    assert len(streams) == 2
    assert "last-event-id" not in streams[0]
    assert 2 <= int(streams[1]["last-event-id"]) < seqs(events)[-1]


def test_async_events_resume_from_the_handle(api_url: str, api_key: str) -> None:
    async def follow() -> tuple[list[Event], list[Event]]:
        async with AsyncAbstraktClient(api_key, api_url) as client:
            handle = await client.submit("local/video", VIDEO)
            first: list[Event] = []
            async for event in handle.events():
                first.append(event)
                if len(first) == 2:
                    break
            rest = [event async for event in handle.events()]
            result = await handle.result(timeout=60)
            assert result.video.url == rest[-1].result.video.url  # type: ignore[union-attr]
            return first, rest

    first, rest = asyncio.run(follow())
    check_whole_log(first + rest)
