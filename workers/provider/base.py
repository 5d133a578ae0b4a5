"""The contracts a provider fulfils.

Two shapes:
- `LocalProvider` renders in this process; the task calls its steps in order and times each
  as a phase (model loading, generation, encoding).
- `HostedProvider` talks to a remote queue with four separate, non-blocking calls — submit,
  status, result, cancel — so whoever waits (a task, a poller) decides how and where.

`FindsSubmissions` is an optional extra for hosted providers whose API can list past requests:
it lets a worker that crashed between submitting and recording the request id find that
request instead of submitting (and paying) twice. No provider offers idempotency keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol, runtime_checkable


@dataclass(frozen=True)
class OutputFile:
    """One produced file, as the provider describes it (URL or a local path)."""

    content_type: str
    url: str | None = None
    path: Path | None = None
    width: int | None = None
    height: int | None = None
    duration_s: float | None = None


class RemoteState(StrEnum):
    QUEUED = "queued"  # waiting at the provider (its queue, cold start) → our model_loading
    RUNNING = "running"  # generating → our generation
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"


@dataclass(frozen=True)
class Submission:
    request_id: str
    # Provider-specific handles needed by later calls (e.g. fal's status/response URLs).
    handles: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RemoteStatus:
    state: RemoteState
    queue_position: int | None = None
    progress: float | None = None  # 0..1 when the provider reports it
    logs: list[str] = field(default_factory=list)
    error_code: str | None = None
    error_message: str | None = None


class HostedProvider(Protocol):
    name: str

    def submit(self, model: str, payload: dict[str, Any]) -> Submission: ...

    def status(self, model: str, submission: Submission) -> RemoteStatus: ...

    def result(
        self, model: str, submission: Submission, *, output: str | None = None
    ) -> list[OutputFile]:
        """The files made, found at `output` (a model's catalog entry may name the place)."""
        ...

    def cancel(self, model: str, submission: Submission) -> None: ...


@runtime_checkable
class FindsSubmissions(Protocol):
    """Optional capability of a `HostedProvider`: look up a submission we may have made."""

    def find_submission(
        self, model: str, payload: dict[str, Any], *, created_after: datetime
    ) -> Submission | None:
        """The provider's request for `model` whose input equals `payload`, or None.

        `payload` is exactly what `submit(model, payload)` would have sent; only requests
        created at or after `created_after` (UTC, timezone-aware) count, give or take the
        clock-skew allowance each adapter documents. When several match, the earliest is
        returned. The result is shaped exactly like `submit`'s. It never submits anything.

        None means the provider's list was read back to `created_after` and holds no match;
        anything that prevents reading it to the end raises a provider error instead, so a
        caller never mistakes "could not look" for "not there".
        """
        ...
