"""Batches from the blocking client: submit many jobs at once, then watch the counts."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from abstrakt._http import Transport
from abstrakt._jobs import poll_delays
from abstrakt.errors import JobTimeoutError


@dataclass(frozen=True)
class BatchStatus:
    """Where a batch stands: `counts` by status (`pending`: not started yet), and each
    item (`index`, `job_id`, `status`, `result`, `error`) as the server reports it."""

    id: str
    counts: dict[str, int]
    done: bool
    items: list[dict[str, Any]]
    raw: dict[str, Any]

    @classmethod
    def from_json(cls, body: Mapping[str, Any]) -> BatchStatus:
        return cls(
            id=str(body["id"]),
            counts=dict(body["counts"]),
            done=bool(body["done"]),
            items=list(body["items"]),
            raw=dict(body),
        )


def batch_body(
    items: Sequence[tuple[str, Mapping[str, Any]]],
    idempotency_key: str | None,
    webhook_url: str | None = None,
) -> dict[str, Any]:
    """`items` as `(model, {"input": {...}, ...})` pairs, the seed's shape; the batch always
    carries an idempotency key, so a retried submission never makes a second batch."""
    body: dict[str, Any] = {
        "items": [{"model": model, **arguments} for model, arguments in items],
        "idempotency_key": idempotency_key or f"abstrakt-py-batch-{uuid.uuid4().hex}",
    }
    if webhook_url is not None:
        body["webhook_url"] = webhook_url
    return body


class BatchHandle:
    def __init__(self, transport: Transport, batch_id: str) -> None:
        self._transport = transport
        self.id = batch_id

    def status(self) -> BatchStatus:
        return BatchStatus.from_json(self._transport.request("GET", f"/v1/batches/{self.id}"))

    def cancel(self) -> BatchStatus:
        body = self._transport.request("POST", f"/v1/batches/{self.id}/cancel")
        return BatchStatus.from_json(body)

    def wait(
        self,
        *,
        on_progress: Callable[[BatchStatus], object] | None = None,
        timeout: float | None = None,
    ) -> BatchStatus:
        """Read the batch until every item ended, calling `on_progress` when the counts
        change; raises `JobTimeoutError` after `timeout` seconds."""
        deadline = None if timeout is None else time.monotonic() + timeout
        last: dict[str, int] | None = None
        for delay in poll_delays():
            status = self.status()
            if status.counts != last and on_progress is not None:
                on_progress(status)
            last = status.counts
            if status.done:
                return status
            if deadline is not None and time.monotonic() + delay > deadline:
                raise JobTimeoutError(
                    f"batch {self.id} did not end within {timeout:g} s", job_id=self.id
                )
            time.sleep(delay)
        raise AssertionError("poll_delays never ends")
