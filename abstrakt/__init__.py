"""The Python client of abstrakt-queue: submit generation jobs, wait for or stream them.

    from abstrakt import AbstraktClient

    client = AbstraktClient()  # ABSTRAKT_API_KEY, ABSTRAKT_BASE_URL
    result = client.run("local/video", {"input": {"prompt": "a red fox", "duration": 3}})
    print(result.video.url)

It needs only httpx and websockets: it imports nothing of the server.
"""

from __future__ import annotations

from abstrakt._jobs import JobStatus
from abstrakt._version import __version__
from abstrakt.aio import AsyncAbstraktClient, AsyncJobHandle
from abstrakt.batches import BatchHandle, BatchStatus
from abstrakt.client import AbstraktClient, JobHandle
from abstrakt.errors import (
    AbstraktError,
    APIConnectionError,
    APIStatusError,
    AuthenticationError,
    ConflictError,
    InsufficientBudgetError,
    InvalidRequestError,
    JobCanceledError,
    JobError,
    JobFailedError,
    JobTimeoutError,
    NotFoundError,
    RateLimitError,
    ServerError,
    StreamError,
    StreamUnavailableError,
)
from abstrakt.events import (
    AcceptedEvent,
    CompleteEvent,
    ErrorEvent,
    Event,
    PreviewEvent,
    ProgressEvent,
    UnknownEvent,
)
from abstrakt.result import Result

__all__ = [
    "APIConnectionError",
    "APIStatusError",
    "AbstraktClient",
    "AbstraktError",
    "AcceptedEvent",
    "AsyncAbstraktClient",
    "AsyncJobHandle",
    "AuthenticationError",
    "BatchHandle",
    "BatchStatus",
    "CompleteEvent",
    "ConflictError",
    "ErrorEvent",
    "Event",
    "InsufficientBudgetError",
    "InvalidRequestError",
    "JobCanceledError",
    "JobError",
    "JobFailedError",
    "JobHandle",
    "JobStatus",
    "JobTimeoutError",
    "NotFoundError",
    "PreviewEvent",
    "ProgressEvent",
    "RateLimitError",
    "Result",
    "ServerError",
    "StreamError",
    "StreamUnavailableError",
    "UnknownEvent",
    "__version__",
]
