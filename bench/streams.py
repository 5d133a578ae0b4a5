"""Case 7: live progress. How soon a WebSocket client sees its job's first event after
submitting, and how fast a published event reaches 1,000 subscribers of one API process.

Baselines from the same run: a client that submits over HTTP and polls once (what it
takes to see the first status without a stream), and bare Redis pub/sub to as many
subscribers (the floor our hub and WebSocket add to).
"""

from __future__ import annotations

import asyncio
import json
import resource
import time
import uuid
from collections.abc import Awaitable
from typing import Any

import httpx
import redis
import redis.asyncio as aioredis
from websockets.asyncio.client import ClientConnection, connect

from bench import env
from bench.result import Result, percentile
from devtools.processes import Children, answers, cli, free_port, wait_for

BODY: dict[str, Any] = {
    "model": "local/image",
    "input": {"prompt": "bench", "resolution": {"width": 64, "height": 64}},
    "cache": False,
}


def streams(procs: Children, quick: bool) -> list[Result]:
    subscribers, rounds, submits = (100, 3, 20) if quick else (1000, 5, 200)
    _raise_file_limit(2 * subscribers + 256)
    key = env.new_api_key()
    port = free_port()
    api = procs.start(cli("api", "--port", str(port)), "api")
    base = f"http://127.0.0.1:{port}"
    wait_for(lambda: answers(f"{base}/healthz"), 60, "the API")
    try:
        first = asyncio.run(_first_event_ms(base, key, submits))
        polled = _submit_and_poll_ms(base, key, submits)
        job_ids = _queued_jobs(base, key, subscribers)
        ours = asyncio.run(_delivery_ms(base, key, job_ids, rounds))
        bare = asyncio.run(_bare_redis_ms([f"bare:{i}" for i in range(subscribers)], rounds))
        one_job = job_ids[:1] * subscribers
        fan_ours = asyncio.run(_delivery_ms(base, key, one_job, rounds))
        fan_bare = asyncio.run(_bare_redis_ms(["bare:fan"] * subscribers, rounds))
    finally:
        procs.stop(api)
    first_p50, polled_p50 = percentile(first, 50), percentile(polled, 50)
    ours_p50, ours_p99 = percentile(ours, 50), percentile(ours, 99)
    bare_p50, bare_p99 = percentile(bare, 50), percentile(bare, 99)
    return [
        Result(
            "7. stream: submit → first event",
            "p50 ms",
            first_p50,
            polled_p50,
            "≤ 50 ms (baseline: POST, then one GET)",
            first_p50 <= 50,
            {
                "p99_ms": percentile(first, 99),
                "baseline_p99_ms": percentile(polled, 99),
                "submits": submits,
                "client": "one WebSocket, one generate at a time",
            },
        ),
        Result(
            f"7. stream: delivery to {subscribers:,} subscribers",
            "p99 ms",
            ours_p99,
            bare_p99,
            "p99 ≤ 100 ms (baseline: bare Redis pub/sub)",
            ours_p99 <= 100,
            {
                "p50_ms": ours_p50,
                "baseline_p50_ms": bare_p50,
                "events": len(ours),
                "baseline_events": len(bare),
                "shape": f"{subscribers} WebSockets on one API process, one job each, "
                f"{rounds} rounds of one progress event per job",
            },
        ),
        Result(
            f"7. stream: one job's event to {subscribers:,} subscribers",
            "p99 ms",
            percentile(fan_ours, 99),
            percentile(fan_bare, 99),
            "p99 ≤ 100 ms (baseline: bare Redis pub/sub)",
            percentile(fan_ours, 99) <= 100,
            {
                "p50_ms": percentile(fan_ours, 50),
                "baseline_p50_ms": percentile(fan_bare, 50),
                "events": len(fan_ours),
                "shape": f"{subscribers} WebSockets following one job, {rounds} events 1 s apart",
            },
        ),
    ]


def _raise_file_limit(needed: int) -> None:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < needed:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, max(needed, soft)), hard))


def _ws_url(base: str) -> str:
    return base.replace("http://", "ws://") + "/v1/stream"


async def _first_event_ms(base: str, key: str, count: int) -> list[float]:
    """Send `generate`, wait for the job's first `progress` message; one at a time."""
    samples: list[float] = []
    async with connect(_ws_url(base)) as socket:
        await socket.send(json.dumps({"action": "ping", "api_key": key}))
        await socket.recv()
        for _ in range(count + 5):  # the first few warm the pools
            started = time.perf_counter()
            await socket.send(json.dumps({"action": "generate", **BODY}))
            job_id = None
            while True:
                message = json.loads(await socket.recv())
                if message["type"] == "accepted":
                    job_id = message["job_id"]
                elif message.get("job_id") == job_id and message["type"] == "progress":
                    samples.append((time.perf_counter() - started) * 1000)
                    await socket.send(json.dumps({"action": "unsubscribe", "job_id": job_id}))
                    break
                elif message["type"] == "error":
                    raise RuntimeError(message)
    return samples[5:]


def _submit_and_poll_ms(base: str, key: str, count: int) -> list[float]:
    samples: list[float] = []
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base, headers=headers) as client:
        for _ in range(count + 5):
            started = time.perf_counter()
            job_id = client.post("/v1/jobs", json=BODY).json()["id"]
            client.get(f"/v1/jobs/{job_id}").raise_for_status()
            samples.append((time.perf_counter() - started) * 1000)
    return samples[5:]


def _queued_jobs(base: str, key: str, count: int) -> list[str]:
    """Jobs that stay queued (no worker runs here) for the subscribers to follow."""
    from workers.job import producer
    from workers.job.schemas import JobCreate
    from workers.key.service import authenticate

    caller = authenticate(key)
    assert caller is not None
    return [str(producer.submit(JobCreate(**BODY), caller=caller).id) for _ in range(count)]


async def _subscribe(base: str, key: str, job_id: str) -> ClientConnection:
    socket = await connect(_ws_url(base), max_queue=None)
    await socket.send(json.dumps({"action": "subscribe", "job_id": job_id, "api_key": key}))
    while json.loads(await socket.recv()).get("event") != "queued":
        pass  # `subscribed`, then the replayed log (one `queued` event)
    return socket


async def _delivery_ms(base: str, key: str, job_ids: list[str], rounds: int) -> list[float]:
    """Publish progress for every job as a worker does; time each arrival at its socket."""
    from workers.job.live import publish

    sockets: list[ClientConnection] = []
    for start in range(0, len(job_ids), 50):  # connect in waves, as clients arrive
        sockets += await asyncio.gather(
            *(_subscribe(base, key, job_id) for job_id in job_ids[start : start + 50])
        )

    targets = list(dict.fromkeys(job_ids))  # a job several sockets follow is published once

    async def publish_rounds() -> None:
        for round_ in range(rounds):
            for job_id in targets:
                publish.progress(uuid.UUID(job_id), "generation", 20 + round_, sent_at=time.time())
                await asyncio.sleep(1 / len(targets))  # each round spread over about a second

    samples = await _collect(sockets, rounds, publish_rounds())
    await asyncio.gather(*(socket.close() for socket in sockets))
    return samples


async def _collect(sources: list[Any], rounds: int, produce: Awaitable[None]) -> list[float]:
    """Read `rounds` messages from every source while `produce` publishes them; each
    message's latency from the `sent_at` it carries. Publishing runs on this event loop,
    between reads, as a worker's publish would from another process."""
    samples: list[float] = []

    async def read(source: Any) -> None:
        for _ in range(rounds):
            message = json.loads(await _next(source))
            samples.append((time.time() - float(message["sent_at"])) * 1000)

    await asyncio.wait_for(asyncio.gather(produce, *(read(s) for s in sources)), timeout=120)
    return samples


async def _next(source: Any) -> bytes | str:
    if isinstance(source, ClientConnection):
        return await source.recv()
    while True:
        message = await source.get_message(ignore_subscribe_messages=True, timeout=30)
        if message is not None:
            data: bytes = message["data"]
            return data


async def _bare_redis_ms(channels: list[str], rounds: int) -> list[float]:
    """The same events through bare Redis pub/sub: one subscriber connection per entry of
    `channels` (a channel may repeat)."""
    url = env.BROKER_URL
    client: aioredis.Redis[bytes] = aioredis.Redis.from_url(url, max_connections=len(channels) + 10)
    targets = list(dict.fromkeys(channels))
    pubsubs = []
    for channel in channels:
        pubsub = client.pubsub()
        await pubsub.subscribe(channel)
        await pubsub.get_message(timeout=5)  # the subscribe confirmation
        pubsubs.append(pubsub)
    sync = redis.Redis.from_url(url)

    async def publish_rounds() -> None:
        for _ in range(rounds):
            for channel in targets:
                sync.publish(channel, json.dumps({"sent_at": time.time()}))
                await asyncio.sleep(1 / len(targets))

    samples = await _collect(pubsubs, rounds, publish_rounds())
    for pubsub in pubsubs:
        await pubsub.aclose()  # type: ignore[attr-defined]  # the stubs predate it
    await client.aclose()  # type: ignore[attr-defined]
    return samples
