"""The contracts a provider fulfils.

Two shapes:
- `LocalProvider` renders in this process; the task calls its steps in order and times each
  as a phase (model loading, generation, encoding).
- `HostedProvider` talks to a remote queue with four separate, non-blocking calls — submit,
  status, result, cancel — so whoever waits (a task, a poller) decides how and where.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, Protocol


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

    def result(self, model: str, submission: Submission) -> list[OutputFile]: ...

    def cancel(self, model: str, submission: Submission) -> None: ...
