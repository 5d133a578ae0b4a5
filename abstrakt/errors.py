"""Every exception the client raises, in one tree; each carries the server's own message.

AbstraktError
├── APIConnectionError        the server could not be reached (after the retries)
├── APIStatusError            the server answered 4xx/5xx: status_code, detail
│   ├── InvalidRequestError   400, 422 (an unknown model, an input the model refuses)
│   ├── AuthenticationError   401 (a missing, unknown or revoked key)
│   ├── InsufficientBudgetError 402 (the key's budget would be passed)
│   ├── NotFoundError         404 (an unknown job, or another owner's)
│   ├── ConflictError         409 (e.g. canceling a finished job)
│   ├── RateLimitError        429 (the key's rate or its cap on jobs in flight): retry_after
│   └── ServerError           5xx
├── StreamError               the WebSocket refused a message (code, e.g. invalid_message)
├── StreamUnavailableError    the server offers no event stream for jobs (an older server)
└── JobError                  the job itself did not succeed: job_id
    ├── JobFailedError        it ended failed: code and message as the server logged them
    ├── JobCanceledError      it was canceled
    └── JobTimeoutError       it did not end within the caller's timeout (also a TimeoutError)
"""

from __future__ import annotations

from typing import Any


class AbstraktError(Exception):
    """Base of everything this package raises; `message` is the human-readable reason."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class APIConnectionError(AbstraktError):
    """The request never got an answer: refused connection, reset, or a timeout."""


class APIStatusError(AbstraktError):
    """The server answered with an error status; `detail` is its decoded `detail` field."""

    def __init__(self, message: str, *, status_code: int, detail: Any = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.detail = detail

    def __str__(self) -> str:
        return f"{self.status_code}: {self.message}"


class InvalidRequestError(APIStatusError):
    pass


class AuthenticationError(APIStatusError):
    pass


class InsufficientBudgetError(APIStatusError):
    pass


class NotFoundError(APIStatusError):
    pass


class ConflictError(APIStatusError):
    pass


class RateLimitError(APIStatusError):
    """`retry_after` is the server's `Retry-After` in seconds, when it sent one."""

    def __init__(
        self, message: str, *, status_code: int, detail: Any = None, retry_after: float | None
    ) -> None:
        super().__init__(message, status_code=status_code, detail=detail)
        self.retry_after = retry_after


class ServerError(APIStatusError):
    pass


class StreamError(AbstraktError):
    """A protocol error on the WebSocket (`code` as the server sent it)."""

    def __init__(self, message: str, *, code: str) -> None:
        super().__init__(message)
        self.code = code

    def __str__(self) -> str:
        return f"{self.code}: {self.message}"


class StreamUnavailableError(AbstraktError):
    """The job exists but its event stream cannot be opened; `run` and `result` poll then."""


class JobError(AbstraktError):
    def __init__(self, message: str, *, job_id: str) -> None:
        super().__init__(message)
        self.job_id = job_id


class JobFailedError(JobError):
    """The job ended `failed`; `code` and `message` are the job's error as the server has it."""

    def __init__(self, message: str, *, job_id: str, code: str) -> None:
        super().__init__(message, job_id=job_id)
        self.code = code

    def __str__(self) -> str:
        return f"job {self.job_id} failed ({self.code}): {self.message}"


class JobCanceledError(JobError):
    def __str__(self) -> str:
        return f"job {self.job_id} was canceled: {self.message}"


class JobTimeoutError(JobError, TimeoutError):
    """Waiting gave up; the job itself goes on (cancel it through its handle if unwanted)."""


_BY_STATUS: dict[int, type[APIStatusError]] = {
    400: InvalidRequestError,
    401: AuthenticationError,
    402: InsufficientBudgetError,
    404: NotFoundError,
    409: ConflictError,
    422: InvalidRequestError,
}


def detail_message(detail: Any) -> str:
    """The server's `detail` as one line: a string as is; FastAPI's list of validation
    errors as `field: message; …`."""
    if isinstance(detail, str):
        return detail
    if isinstance(detail, list):
        parts = []
        for item in detail:
            if isinstance(item, dict) and "msg" in item:
                loc = [str(p) for p in item.get("loc", []) if p != "body"]
                parts.append(f"{'.'.join(loc)}: {item['msg']}" if loc else str(item["msg"]))
            else:
                parts.append(str(item))
        return "; ".join(parts)
    return str(detail)


def error_for_status(
    status_code: int, body: Any, *, retry_after: float | None = None
) -> APIStatusError:
    """The exception for an error answer whose decoded body is `body`."""
    detail = body.get("detail", body) if isinstance(body, dict) else body
    message = detail_message(detail) if detail not in (None, "") else f"HTTP {status_code}"
    if status_code == 429:
        return RateLimitError(
            message, status_code=status_code, detail=detail, retry_after=retry_after
        )
    kind = _BY_STATUS.get(status_code)
    if kind is None:
        kind = ServerError if status_code >= 500 else APIStatusError
    return kind(message, status_code=status_code, detail=detail)


# Codes of WebSocket error messages that mean the same as an HTTP status.
_STREAM_CODES: dict[str, int] = {
    "unauthorized": 401,
    "over_budget": 402,
    "not_found": 404,
    "conflict": 409,
    "invalid_transition": 409,
    "invalid_input": 422,
    "rate_limited": 429,
    "too_many_in_flight": 429,
}


def error_for_stream_message(data: dict[str, Any]) -> AbstraktError:
    """A WebSocket `error` that is not a job's end: the HTTP exception for the same refusal
    when there is one (with the per-field `errors` in its message), else a `StreamError`."""
    code = str(data.get("code", "error"))
    message = str(data.get("message", ""))
    if data.get("errors"):
        message = f"{message}: {detail_message(data['errors'])}"
    status = _STREAM_CODES.get(code)
    if status is None:
        return StreamError(message, code=code)
    retry_after = data.get("retry_after")
    return error_for_status(
        status,
        {"detail": message},
        retry_after=float(retry_after) if isinstance(retry_after, int | float) else None,
    )
