"""The domain's exception tree; the API maps each class to one HTTP status in one handler.

DomainError
├── NotFound              a job (or other row) that does not exist          → 404
├── InvalidInput          a request the catalog refuses; names the field    → 422
├── Conflict              e.g. an idempotency key reused for another body   → 409
├── InvalidTransition     a status change the job's state machine forbids   → 409
├── TooManyInFlight       a key's cap on queued + running jobs is reached   → 429
├── OverBudget            a job would take a key past its budget            → 402
├── StorageUnavailable    the store refused a result (full, read-only, gone): the job fails
└── ProviderError         a model provider failed
    ├── RetryableProviderError   transient: 429, 5xx, connection, timeout
    └── PermanentProviderError   the provider refused the input; never retried
"""

from __future__ import annotations

from dataclasses import dataclass, field


class DomainError(Exception):
    code = "error"


class NotFound(DomainError):
    code = "not_found"


@dataclass
class FieldError:
    loc: tuple[str | int, ...]
    msg: str


class InvalidInput(DomainError):
    code = "invalid_input"

    def __init__(self, errors: list[FieldError]) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{'.'.join(map(str, e.loc))}: {e.msg}" for e in errors))

    @classmethod
    def at(cls, *loc: str | int, msg: str) -> InvalidInput:
        return cls([FieldError(loc=loc, msg=msg)])


class Conflict(DomainError):
    code = "conflict"


class InvalidTransition(DomainError):
    code = "invalid_transition"


class TooManyInFlight(DomainError):
    code = "too_many_in_flight"

    def __init__(self, message: str, *, retry_after_s: float) -> None:
        super().__init__(message)
        self.retry_after_s = retry_after_s  # when the oldest job in flight should end


class OverBudget(DomainError):
    code = "over_budget"


class StorageUnavailable(DomainError):
    """The result could not be written to storage. Its message names the cause (`No space
    left on device`), never a server path; the job fails at once rather than retrying: a
    full or read-only store needs an operator, and `/healthz` shows it meanwhile."""

    code = "storage_unavailable"


@dataclass
class ProviderError(DomainError):
    message: str
    code: str = "provider_error"
    details: dict[str, object] = field(default_factory=dict)

    def __post_init__(self) -> None:
        super().__init__(self.message)


@dataclass
class RetryableProviderError(ProviderError):
    code: str = "provider_unavailable"
    retry_after_s: float | None = None


@dataclass
class PermanentProviderError(ProviderError):
    code: str = "provider_rejected"
