"""`run`, `run_async`, `submit` and a handle's `status`, `result` and `cancel`, over HTTP
against the real API, worker and event stream."""

from __future__ import annotations

import asyncio

import pytest

from abstrakt import (
    AbstraktClient,
    AsyncAbstraktClient,
    CompleteEvent,
    ErrorEvent,
    JobCanceledError,
    JobTimeoutError,
    Result,
)
from tests.client.conftest import served

pytestmark = pytest.mark.e2e


def test_run_waits_for_a_video(sdk: AbstraktClient, api_url: str) -> None:
    result = sdk.run(
        "local/video", {"input": {"prompt": "a red fox in snow", "duration": 3}}, timeout=60
    )
    assert isinstance(result, Result)
    assert (result.video.width, result.video.height, result.video.duration) == (854, 480, 3.0)
    assert result["video"]["url"] == result.video.url
    media = served(result.video.url, api_url)
    assert media.status_code == 200
    assert media.headers["content-type"] == "video/mp4"
    job = sdk.status(result.job_id or "")
    assert job.status == "succeeded"
    assert job.result == result


@pytest.mark.usefixtures("env_key")
def test_run_async_on_both_clients_gives_images(api_url: str) -> None:
    body = {"input": {"prompt": "an owl", "resolution": {"width": 320, "height": 240}}}

    async def both() -> list[Result]:
        async with AsyncAbstraktClient() as client:
            return list(
                await asyncio.gather(
                    client.run_async("local/image", body, timeout=60),
                    AbstraktClient().run_async("local/image", {**body, "cache": False}),
                )
            )

    first, second = asyncio.run(both())
    assert first.job_id != second.job_id
    for result in (first, second):
        assert len(result.images) == 1  # a list, even of one
        assert (result.images[0].width, result.images[0].height) == (320, 240)
        assert served(result.images[0].url, api_url).headers["content-type"] == "image/png"


def test_submit_then_status_and_result(sdk: AbstraktClient) -> None:
    handle = sdk.submit("local/image", {"input": {"prompt": "a kite"}, "priority": 9})
    assert handle.status().status in ("queued", "running", "succeeded")
    result = handle.result(timeout=60)
    job = handle.status()
    assert (job.status, job.id, job.model) == ("succeeded", handle.id, "local/image")
    assert job.raw.priority == 9
    assert result.images[0].url == job.raw.result.images[0].url
    # The same request again is a cache hit: born succeeded, its result in the answer.
    again = sdk.submit("local/image", {"input": {"prompt": "a kite"}})
    assert again.status().cache_hit
    assert again.result().images[0].url == result.images[0].url


def test_a_wait_times_out_then_cancel_ends_the_job(sdk: AbstraktClient) -> None:
    # Seconds of rendering: still queued or running when the wait gives up and the cancel comes.
    handle = sdk.submit(
        "local/video", {"input": {"prompt": "slow", "duration": 10, "resolution": "1080p"}}
    )
    with pytest.raises(JobTimeoutError) as timed_out:
        handle.result(timeout=0.3)
    assert isinstance(timed_out.value, TimeoutError)
    assert handle.cancel() == "canceled"
    with pytest.raises(JobCanceledError) as raised:
        handle.result(timeout=60)
    assert raised.value.job_id == handle.id
    events = list(handle.events())
    assert isinstance(events[-1], ErrorEvent)
    assert (events[-1].code, events[-1].job_id) == ("canceled", handle.id)
    assert not any(isinstance(e, CompleteEvent) for e in events)
    assert handle.status().status == "canceled"
