"""The entry point after every provider call: a success closes the circuit, a transient
failure counts towards opening it. Owns its own short transaction.

The healthy path (every status check) must not cost a database round trip: a success is
written at once for a provider this process saw failing, otherwise at most every
`SUCCESS_SYNC_S`, which is how long a circuit other processes' failures left counting may
go on counting before this process's successes reset it. That memory is per process.
"""

from __future__ import annotations

import time

from workers.db.engine import session_scope
from workers.errors import RetryableProviderError
from workers.provider_health.circuit import record_failure, record_success
from workers.settings import get_settings

SUCCESS_SYNC_S = 5.0
_failing_here: set[str] = set()
_next_success_sync: dict[str, float] = {}


def record_outcome(provider: str, error: RetryableProviderError | None) -> None:
    now = time.monotonic()
    if (
        error is None
        and provider not in _failing_here
        and now < _next_success_sync.get(provider, 0.0)
    ):
        return
    _next_success_sync[provider] = now + SUCCESS_SYNC_S
    settings = get_settings()
    with session_scope() as session:
        if error is None:
            record_success(session, provider)
            _failing_here.discard(provider)
        else:
            _failing_here.add(provider)
            record_failure(
                session,
                provider,
                error=error.code,
                threshold=settings.circuit_failure_threshold,
                open_s=settings.circuit_open_s,
            )
