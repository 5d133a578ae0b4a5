"""One per API process: fans the live channel of each watched job out to its subscribers.

However many subscribers a job has, the process holds one Redis subscription for it, on one
connection shared by every job. A catch-up loop re-reads the log of watched jobs whose
sequence moved past what the hub delivered: on the embedded default (no Redis) that loop
is the delivery, every 0.1 s, and it also picks up the progress files; on the server path
it runs every second and repairs a publish that was lost.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from pathlib import Path

import anyio.to_thread
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from workers.db.engine import session_scope
from workers.job import reader
from workers.job.live import publish
from workers.job.live.messages import Durable, Live

log = logging.getLogger(__name__)

Item = Durable | Live
RECONNECT_S = 1.0
CLOSE_WAIT_S = 5.0


class Hub:
    def __init__(self, *, redis_url: str, catchup_s: float) -> None:
        self._redis_url = redis_url
        self._catchup_s = catchup_s
        self._queues: dict[uuid.UUID, set[asyncio.Queue[Item]]] = {}
        self._delivered: dict[uuid.UUID, int] = {}  # the highest seq handed to subscribers
        self._progress_stamp: dict[uuid.UUID, int] = {}  # embedded: progress file mtimes
        self._pubsub: aioredis.client.PubSub | None = None
        self._redis: aioredis.Redis[bytes] | None = None
        self._tasks: list[asyncio.Task[None]] = []
        self._subscribed: set[str] = set()  # the job channels Redis sends us
        self._subscribing = asyncio.Lock()

    async def start(self) -> None:
        if self._redis_url:
            self._tasks.append(asyncio.create_task(self._listen(), name="live-hub-listen"))
        self._tasks.append(asyncio.create_task(self._catch_up(), name="live-hub-catch-up"))

    async def close(self) -> None:
        """Stop reading; bounded, so a stuck read never holds up the app's shutdown."""
        for task in self._tasks:
            task.cancel()
        if self._tasks:
            await asyncio.wait(self._tasks, timeout=CLOSE_WAIT_S)
        if self._redis is not None:
            with contextlib.suppress(RedisError, OSError, TimeoutError):
                await asyncio.wait_for(self._redis.aclose(), CLOSE_WAIT_S)  # type: ignore[attr-defined]  # stubs predate it

    @property
    def watched(self) -> int:
        return len(self._queues)

    @contextlib.asynccontextmanager
    async def watch(self, job_id: uuid.UUID) -> AsyncIterator[asyncio.Queue[Item]]:
        """A queue of the job's live items, subscribed before this returns: a caller that
        reads the log after entering misses nothing published after that read."""
        queue: asyncio.Queue[Item] = asyncio.Queue()
        self._queues.setdefault(job_id, set()).add(queue)
        try:
            await self._sync_subscriptions()
            yield queue
        finally:
            subscribers = self._queues.get(job_id, set())
            subscribers.discard(queue)
            if not subscribers:
                self._queues.pop(job_id, None)
                self._delivered.pop(job_id, None)
                self._progress_stamp.pop(job_id, None)
                await self._sync_subscriptions()

    async def _sync_subscriptions(self) -> None:
        """Make the Redis subscription match the watched jobs. One change at a time, each
        decided from the current watchers: an unsubscribe can never overtake a newer
        subscribe to the same job, and many changes at once go out in one command."""
        if self._pubsub is None:
            return
        async with self._subscribing:
            wanted = {publish.channel(job_id) for job_id in self._queues}
            pubsub = self._pubsub
            if pubsub is None:
                return
            added, removed = wanted - self._subscribed, self._subscribed - wanted
            try:
                if added:
                    await pubsub.subscribe(*added)
                if removed:
                    await pubsub.unsubscribe(*removed)
            except (RedisError, OSError) as exc:  # the listener reconnects and resubscribes
                log.warning("live.hub_subscribe_failed error=%s", exc)
                return
            self._subscribed = wanted

    def note_seen(self, job_id: uuid.UUID, seq: int) -> None:
        """A subscriber read the log up to `seq`: the catch-up loop starts after it."""
        if job_id in self._queues:
            self._delivered[job_id] = max(self._delivered.get(job_id, 0), seq)

    def _dispatch(self, item: Item) -> None:
        if isinstance(item, Durable):
            self._delivered[item.job_id] = max(self._delivered.get(item.job_id, 0), item.seq)
        for queue in self._queues.get(item.job_id, ()):
            queue.put_nowait(item)

    async def _listen(self) -> None:
        """Read the Redis subscription, reconnecting (and resubscribing) after a failure."""
        while True:
            client: aioredis.Redis[bytes] = aioredis.Redis.from_url(self._redis_url)
            self._redis = client
            try:
                pubsub = client.pubsub(ignore_subscribe_messages=True)
                # Always subscribed to something, so reading never returns at once.
                await pubsub.subscribe(publish.channel("hub"))
                async with self._subscribing:
                    self._subscribed = set()
                    self._pubsub = pubsub
                await self._sync_subscriptions()
                while True:
                    message = await pubsub.get_message(timeout=30.0)
                    if message is not None and message["type"] == "message":
                        self._receive(message["data"])
            except asyncio.CancelledError:
                raise
            except (RedisError, OSError) as exc:
                log.warning("live.hub_redis_lost error=%s", exc)
                self._pubsub = None
                with contextlib.suppress(RedisError, OSError):
                    await client.aclose()  # type: ignore[attr-defined]  # stubs predate it
                await asyncio.sleep(RECONNECT_S)

    def _receive(self, data: bytes) -> None:
        try:
            item = _parse(data)
        except (ValueError, KeyError, TypeError) as exc:
            log.warning("live.hub_bad_message error=%r", exc)
            return
        self._dispatch(item)

    async def _catch_up(self) -> None:
        while True:
            await asyncio.sleep(self._catchup_s)
            if not self._queues:
                continue
            try:
                await self._catch_up_once()
            except asyncio.CancelledError:
                raise
            except Exception:  # the database may blip; the next round tries again
                log.exception("live.hub_catch_up_failed")

    async def _catch_up_once(self) -> None:
        delivered = {job_id: self._delivered.get(job_id, 0) for job_id in self._queues}
        # A read: cancelled (the app stopping), its thread is left to finish on its own.
        behind = await anyio.to_thread.run_sync(_events_behind, delivered, abandon_on_cancel=True)
        for event in behind:
            if event.seq > self._delivered.get(event.job_id, 0):
                self._dispatch(event)
        if self._redis_url:
            return
        for job_id in list(self._queues):
            item = self._read_progress(job_id)
            if item is not None:
                self._dispatch(item)

    def _read_progress(self, job_id: uuid.UUID) -> Live | None:
        path: Path = publish.progress_file(job_id)
        try:
            stamp = path.stat().st_mtime_ns
            if stamp == self._progress_stamp.get(job_id):
                return None
            self._progress_stamp[job_id] = stamp
            item = _parse(path.read_bytes())
        except (OSError, ValueError, KeyError):
            return None
        return item if isinstance(item, Live) else None


def _parse(data: bytes) -> Item:
    body = json.loads(data)
    job_id = uuid.UUID(body.pop("job_id"))
    if "seq" in body:
        return Durable(job_id, int(body["seq"]), str(body["type"]), dict(body["payload"]))
    phase, value = str(body.pop("phase")), int(body.pop("progress"))
    return Live(job_id, phase, value, body)


def _events_behind(delivered: dict[uuid.UUID, int]) -> list[Durable]:
    with session_scope() as session:
        return reader.events_behind(session, delivered)
