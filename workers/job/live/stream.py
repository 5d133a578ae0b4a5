"""One subscriber's stream of one job: replay the log after a sequence number, then go
live, until the job ends. No gap, no duplicate: the hub subscription is taken before the
log is read, events at or below the last seq sent are skipped, and a seq that skips ahead
is filled from the log first."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncGenerator

import anyio.to_thread

from workers.db.engine import session_scope
from workers.job import reader
from workers.job.live.hub import Hub
from workers.job.live.messages import Durable, Gate, Message, from_durable, from_live


async def load_log(job_id: uuid.UUID, owner: str | None) -> list[Durable]:
    """The job's whole log (raises `NotFound` for an unknown or another owner's job)."""

    def read() -> list[Durable]:
        with session_scope() as session:
            return reader.job_log(session, job_id, owner=owner)

    return await anyio.to_thread.run_sync(read, abandon_on_cancel=True)  # a read


async def _log_after(job_id: uuid.UUID, after: int) -> list[Durable]:
    def read() -> list[Durable]:
        with session_scope() as session:
            return reader.log_after(session, job_id, after)

    return await anyio.to_thread.run_sync(read, abandon_on_cancel=True)  # a read


class _Cursor:
    """Where a subscriber is: the last seq sent, and its progress gate."""

    def __init__(self, job_id: uuid.UUID, after: int) -> None:
        self.job_id = job_id
        self.last = after
        self.gate = Gate()
        self.ended = False

    def take(self, event: Durable) -> list[Message]:
        """The messages for a log event (none for one already sent)."""
        if event.seq <= self.last or self.ended:
            return []
        self.last = event.seq
        message = self.gate.pass_durable(from_durable(event))
        if not event.ends_job:
            return [message]
        self.ended = True
        if message["type"] == "complete":
            return [self.gate.finished(self.job_id), message]
        return [message]

    def absorb(self, event: Durable) -> None:
        """An event the subscriber saw before resuming: moves the gate, sends nothing."""
        self.gate.pass_durable(from_durable(event))
        self.ended = self.ended or event.ends_job


async def follow(
    hub: Hub,
    job_id: uuid.UUID,
    *,
    owner: str | None,
    after: int = 0,
    idle_s: float | None = 15.0,
) -> AsyncGenerator[Message | None, None]:
    """The job's messages after seq `after`, ending with its `complete` or `error`; None
    after `idle_s` without any (for a keep-alive; None: never). Raises `NotFound` before
    yielding."""
    async with hub.watch(job_id) as queue:
        log = await load_log(job_id, owner)
        # A seq past the log's end cannot have been seen: resume from the end instead.
        after = min(after, log[-1].seq if log else 0)
        cursor = _Cursor(job_id, after)
        for event in log:
            if event.seq <= after:
                cursor.absorb(event)
                continue
            for message in cursor.take(event):
                yield message
        hub.note_seen(job_id, cursor.last)
        while not cursor.ended:
            try:
                item = await asyncio.wait_for(queue.get(), idle_s)
            except TimeoutError:
                yield None
                continue
            if isinstance(item, Durable):
                events = [item]
                if item.seq > cursor.last + 1:  # a publish was lost or overtaken: the log
                    events = await _log_after(job_id, cursor.last)
                for event in events:
                    for message in cursor.take(event):
                        yield message
            else:
                live = cursor.gate.pass_live(from_live(item))
                if live is not None:
                    yield live
