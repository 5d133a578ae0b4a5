"""What the sync and the async client share about jobs: the submission body, a job's
status, and turning a finished job (or its last message) into a result or an exception."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from abstrakt.errors import JobCanceledError, JobFailedError
from abstrakt.events import CompleteEvent, ErrorEvent, Event, PreviewEvent, ProgressEvent
from abstrakt.result import Result

TERMINAL = frozenset({"succeeded", "failed", "canceled"})
# What `subscribe` calls back with (a coroutine function too, on the async client).
QueueUpdate = Callable[[ProgressEvent | PreviewEvent], object]


def submit_body(model: str, arguments: Mapping[str, Any], preview: bool | None) -> dict[str, Any]:
    """The request for `model` from the seed's `{"input": {...}, "priority": ...}` shape.

    Always carries an idempotency key (one is made when the caller gave none), so a
    submission repeated after a lost answer returns the first job instead of a second.
    """
    if not isinstance(arguments, Mapping) or not isinstance(arguments.get("input"), Mapping):
        raise ValueError(
            'arguments must look like {"input": {...}} (plus optional priority, '
            "idempotency_key, cache, preview)"
        )
    body: dict[str, Any] = {"model": model, **arguments, "input": dict(arguments["input"])}
    if preview is not None:
        body["preview"] = preview
    if body.get("preview") is None:
        body.pop("preview", None)  # sent only when asked for: older servers refuse the field
    if not body.get("idempotency_key"):
        body["idempotency_key"] = f"abstrakt-py-{uuid.uuid4().hex}"
    return body


@dataclass(frozen=True)
class JobStatus:
    """A job as `GET /v1/jobs/{id}` shows it; `raw` has every field the server sent."""

    id: str
    model: str
    status: str
    result: Result | None
    error_code: str | None
    error_message: str | None
    cache_hit: bool
    raw: Result

    @property
    def done(self) -> bool:
        return self.status in TERMINAL

    @classmethod
    def from_json(cls, job: Mapping[str, Any]) -> JobStatus:
        error = job.get("error") or {}
        job_id = str(job["id"])
        result = job.get("result")
        return cls(
            id=job_id,
            model=str(job.get("model", "")),
            status=str(job["status"]),
            result=Result(result, job_id=job_id) if isinstance(result, Mapping) else None,
            error_code=error.get("code"),
            error_message=error.get("message"),
            cache_hit=bool(job.get("cache_hit", False)),
            raw=Result(job),
        )


def known_from_answer(job_id: str, accepted: Mapping[str, Any] | None) -> JobStatus | None:
    """A submission's answer, when it already holds the end: a cache hit is born
    succeeded, its result in the answer."""
    if accepted is None or accepted.get("status") != "succeeded":
        return None
    if not isinstance(accepted.get("result"), Mapping):
        return None
    return JobStatus.from_json({**accepted, "id": job_id})


def outcome_of_status(job: JobStatus) -> Result:
    """The result of a finished job, or the exception for how it ended."""
    if job.status == "succeeded":
        return job.result or Result({}, job_id=job.id)
    if job.status == "canceled":
        raise JobCanceledError(job.error_message or "canceled", job_id=job.id)
    raise JobFailedError(
        job.error_message or "the job failed", job_id=job.id, code=job.error_code or "failed"
    )


def outcome_of_event(event: CompleteEvent | ErrorEvent) -> Result:
    """The result carried by a job's last message, or the exception for how it ended."""
    if isinstance(event, CompleteEvent):
        return event.result
    job_id = event.job_id or ""
    if event.code == "canceled":
        raise JobCanceledError(event.message or "canceled", job_id=job_id)
    raise JobFailedError(event.message or "the job failed", job_id=job_id, code=event.code)


def poll_delays() -> Iterator[float]:
    """Waits between status reads when no event stream is available: quick at first (most
    jobs are short), then every 2 s."""
    delay = 0.2
    while True:
        yield delay
        delay = min(delay * 1.5, 2.0)


def queue_updates(callback: QueueUpdate, with_logs: bool) -> Callable[[Event], object]:
    """The progress and preview messages for a `subscribe` callback; progress log lines
    (`message`) only `with_logs`."""

    def notify(event: Event) -> object:
        if isinstance(event, ProgressEvent):
            return callback(event if with_logs else dataclasses.replace(event, message=None))
        if isinstance(event, PreviewEvent):
            return callback(event)
        return None

    return notify
