"""The values of a job's two state machines. The moves between them, and the one function
that makes them, are in `workers.job.state.transitions`."""

from __future__ import annotations

from enum import StrEnum


class JobStatus(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELED = "canceled"

    @property
    def is_terminal(self) -> bool:
        return self in TERMINAL


TERMINAL = frozenset({JobStatus.SUCCEEDED, JobStatus.FAILED, JobStatus.CANCELED})


class SubmitState(StrEnum):
    """How far a hosted attempt's submission got (None: not started, or a local job)."""

    INTENT = "intent"  # committed before the provider is called
    SUBMITTED = "submitted"  # the provider's request id is stored; the poller follows it
    COMPLETED = "completed"  # the provider finished; finalize fetches and stores the output
