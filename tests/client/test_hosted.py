"""The seed tutorial's Python, unchanged but for its import, against hosted models on the
emulator (API → worker → emulator → poller); `subscribe`'s callbacks; a failed job."""

from __future__ import annotations

import asyncio

import pytest

from abstrakt import (
    AbstraktClient,
    ErrorEvent,
    JobFailedError,
    PreviewEvent,
    ProgressEvent,
)

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("env_key")]


def test_the_seed_tutorials_python_runs() -> None:
    # "Strategy 1: Use Faster Models", as printed: each model's catalog entry maps the
    # duration onto its own fields, and the stored video has the asked length.
    client = AbstraktClient()
    # Fast option (~30s)
    result = client.run("fal-ai/ltx-video", {"input": {"prompt": "...", "duration": 3}})
    assert result.video.duration == 3.0

    # Balanced option (~45s)
    result = client.run("fal-ai/hunyuan-video", {"input": {"prompt": "...", "duration": 5}})
    assert result.video.duration == 5.0

    # Quality option (~90s)
    result = client.run(
        "fal-ai/kling-video/v1/standard/text-to-video", {"input": {"prompt": "..."}}
    )
    assert result.video.url.endswith(".mp4")

    # "Strategy 4: Pre-generation Queue"
    class VideoCache:
        def __init__(self):
            self.cache = {}
            self.client = AbstraktClient()

        async def warm_cache(self, common_prompts):
            """Pre-generate common videos"""
            for prompt in common_prompts:
                if prompt not in self.cache:
                    result = await self.client.run_async(
                        "fal-ai/ltx-video", {"input": {"prompt": prompt}}
                    )
                    self.cache[prompt] = result.video.url

    cache = VideoCache()
    asyncio.run(cache.warm_cache(["a red fox in snow", "waves at night"]))
    assert sorted(cache.cache) == ["a red fox in snow", "waves at night"]
    assert all(url.endswith(".mp4") for url in cache.cache.values())


def test_subscribe_calls_back_and_a_failure_is_typed() -> None:
    client = AbstraktClient()
    enqueued: list[str] = []
    updates: list[ProgressEvent | PreviewEvent] = []
    result = client.subscribe(
        "fal-ai/flux/schnell",
        {"input": {"prompt": "a lighthouse", "resolution": {"width": 320, "height": 240}}},
        on_enqueue=enqueued.append,
        on_queue_update=updates.append,
        timeout=60,
    )
    assert enqueued == [result.job_id]
    assert (result.images[0].width, result.images[0].height) == (320, 240)
    progress = [u.progress for u in updates if isinstance(u, ProgressEvent)]
    assert progress == sorted(progress)
    assert progress[-1] == 100
    assert any(u.phase == "generation" for u in updates if isinstance(u, ProgressEvent))

    failing = {"input": {"prompt": "boom [[fail]]"}}
    with pytest.raises(JobFailedError) as failed:
        client.run("fal-ai/ltx-video", failing, timeout=60)
    assert failed.value.code
    assert failed.value.message
    job = client.status(failed.value.job_id)
    assert job.error_code == failed.value.code
    assert job.error_message == failed.value.message
    last = list(client.stream("fal-ai/ltx-video", {**failing, "cache": False}))[-1]
    assert isinstance(last, ErrorEvent)
    assert (last.code, last.message) == (failed.value.code, failed.value.message)
