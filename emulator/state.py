"""Jobs and their lifecycle, derived from elapsed time: no background threads.

A job's state is a pure function of the clock: queued for `queue_s` after submission, then
running for `generation_s`, then succeeded (or failed, if it was marked to fail). Cancel
freezes it as canceled unless it had already finished.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

Clock = Callable[[], float]


class Phase(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


TERMINAL = frozenset({Phase.SUCCEEDED, Phase.FAILED, Phase.CANCELED})


@dataclass
class Job:
    id: str
    provider: str
    model: str
    input: dict[str, Any]
    created_at: float  # clock seconds
    created_wall: float  # unix seconds, for the timestamps providers report
    queue_s: float
    generation_s: float
    fps: int
    fail_message: str | None = None
    canceled_at: float | None = None
    file_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    # The request as its model's schema reads it (None: a model without a schema).
    body: dict[str, Any] | None = None
    media_paths: dict[int, Path] = field(default_factory=dict)  # rendered files, by index
    media_lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def phase(self, now: float) -> Phase:
        finished_at = self.created_at + self.queue_s + self.generation_s
        if self.canceled_at is not None and self.canceled_at < finished_at:
            return Phase.CANCELED
        elapsed = now - self.created_at
        if elapsed < self.queue_s:
            return Phase.QUEUED
        if elapsed < self.queue_s + self.generation_s:
            return Phase.RUNNING
        return Phase.FAILED if self.fail_message else Phase.SUCCEEDED

    def progress(self, now: float) -> float:
        """0..1 through generation."""
        if self.generation_s <= 0:
            return 1.0 if now - self.created_at >= self.queue_s else 0.0
        running = now - self.created_at - self.queue_s
        return max(0.0, min(1.0, running / self.generation_s))

    def started_at(self) -> float:
        return self.created_at + self.queue_s

    def finished_at(self) -> float:
        end = self.created_at + self.queue_s + self.generation_s
        return min(end, self.canceled_at) if self.canceled_at is not None else end

    def wall(self, clock_time: float) -> float:
        """A clock reading as unix seconds."""
        return self.created_wall + (clock_time - self.created_at)


class Store:
    """All jobs, by id and by media file id, plus submission counters."""

    def __init__(self, clock: Clock = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._jobs: dict[str, Job] = {}
        self._files: dict[str, str] = {}
        # Per model, in creation order: the jobs that may still be queued. A job's phase
        # only moves forward, so one seen out of the queue is dropped for good; this keeps
        # `queue_position` proportional to the queue, not to every job ever stored.
        self._waiting: dict[str, deque[Job]] = {}
        self.submissions: Counter[str] = Counter()  # jobs created, per model
        self.attempts: Counter[str] = Counter()  # submit requests received, per model

    def add(self, job: Job) -> None:
        with self._lock:
            self._jobs[job.id] = job
            self._files[job.file_id] = job.id
            self.submissions[job.model] += 1
            waiting = self._waiting.setdefault(job.model, deque())
            now = self.clock()
            while waiting and waiting[0].phase(now) is not Phase.QUEUED:
                waiting.popleft()
            waiting.append(job)

    def get(self, job_id: str) -> Job | None:
        return self._jobs.get(job_id)

    def listing(self, provider: str) -> list[Job]:
        """This provider's jobs, newest first.

        Jobs are added in the order they are created, so insertion order is creation order
        even when two share a `created_wall` reading.
        """
        with self._lock:
            return [job for job in reversed(self._jobs.values()) if job.provider == provider]

    def by_file(self, file_id: str) -> Job | None:
        job_id = self._files.get(file_id)
        return self._jobs.get(job_id) if job_id else None

    def queue_position(self, job: Job) -> int:
        """How many earlier jobs of the same model are still queued.

        One pass over the model's waiting jobs, keeping only those still queued. The clock
        is read under the lock, so pruning never runs ahead of a concurrent caller's `now`.
        """
        with self._lock:
            now = self.clock()
            waiting = self._waiting.get(job.model)
            if not waiting:
                return 0
            queued = [other for other in waiting if other.phase(now) is Phase.QUEUED]
            self._waiting[job.model] = deque(queued)
            return sum(1 for other in queued if other.created_at < job.created_at)

    def cancel(self, job: Job) -> bool:
        """Cancel unless finished; True when the job is (now) canceled."""
        now = self.clock()
        with self._lock:
            if job.phase(now) in TERMINAL:
                return job.phase(now) is Phase.CANCELED
            job.canceled_at = now
            return True

    def reset(self) -> None:
        with self._lock:
            self._jobs.clear()
            self._files.clear()
            self._waiting.clear()
            self.submissions.clear()
            self.attempts.clear()
