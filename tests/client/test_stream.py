"""`stream`: a `generate` over the WebSocket `/v1/stream`, to the job's end, resubscribing
after a dropped connection (its refusals: test_errors.py)."""

from __future__ import annotations

import asyncio

import pytest

from abstrakt import (
    AbstraktClient,
    AcceptedEvent,
    AsyncAbstraktClient,
    CompleteEvent,
    Event,
    PreviewEvent,
)
from tests.client.conftest import served
from tests.client.proxy import cutting_proxy
from tests.client.test_events import SLOW_VIDEO, check_whole_log, seqs

pytestmark = pytest.mark.e2e


def test_stream_generates_to_the_end(sdk: AbstraktClient, api_url: str, api_key: str) -> None:
    video = {"input": {"prompt": "a comet", "duration": 3}}
    events = list(sdk.stream("local/video", video, preview=True))
    accepted, *messages = events
    assert isinstance(accepted, AcceptedEvent)
    assert accepted.status == "queued"
    assert not accepted.cache_hit
    check_whole_log(messages)
    assert {e.job_id for e in messages} == {accepted.job_id}
    complete = messages[-1]
    assert isinstance(complete, CompleteEvent)
    assert complete.video_url
    assert complete.video_url == complete.result.video.url
    assert sdk.status(accepted.job_id).status == "succeeded"
    previews = [e for e in messages if isinstance(e, PreviewEvent)]
    assert previews  # asked for: the preview image, and the renderer's first frame
    for preview in previews:
        assert served(preview.frame_url, api_url).headers["content-type"] == "image/png"

    async def image() -> list[Event]:
        async with AsyncAbstraktClient(api_key, api_url) as client:
            body = {"input": {"prompt": "a moth", "resolution": {"width": 64, "height": 64}}}
            return [event async for event in client.stream("local/image", body)]

    accepted, *messages = asyncio.run(image())
    assert isinstance(accepted, AcceptedEvent)
    check_whole_log(messages)
    assert messages[-1].image_urls == [messages[-1].result.images[0].url]  # type: ignore[union-attr]


def test_stream_resubscribes_after_the_connection_drops(api_url: str, api_key: str) -> None:
    with cutting_proxy(api_url) as proxy, AbstraktClient(api_key, proxy.url) as client:
        events: list[Event] = []
        for event in client.stream("local/video", SLOW_VIDEO):
            events.append(event)
            if len(seqs(events)) == 2 and len(proxy.requests) == 1:
                proxy.cut()  # still rendering: the rest comes on the next connection
        upgrades = [r for r in proxy.requests if r.startswith(b"GET /v1/stream ")]
    assert len(upgrades) == 2
    accepted, *messages = events
    assert isinstance(accepted, AcceptedEvent)  # one job: the second connection subscribed
    assert sum(isinstance(e, AcceptedEvent) for e in events) == 1
    check_whole_log(messages)
