"""Circuit breaker and concurrency limit, against real Postgres."""

from __future__ import annotations

import pytest
from celery.exceptions import Retry

from tests.job.helpers import submit
from workers.db.engine import session_scope
from workers.errors import RetryableProviderError
from workers.job import repository
from workers.job.state import attempt
from workers.job.state.attempt import wait_before_submit
from workers.job.tasks import generate
from workers.provider_health import circuit
from workers.provider_health.outcomes import record_outcome
from workers.settings import get_settings


def failure() -> RetryableProviderError:
    return RetryableProviderError(message="fal: 503", code="provider_unavailable")


class TestCircuitBreaker:
    def test_opens_after_threshold_failures_and_closes_on_success(self) -> None:
        threshold = get_settings().circuit_failure_threshold
        for _ in range(threshold - 1):
            record_outcome("fal", failure())
        with session_scope() as session:
            assert wait_before_submit(session, "fal", limit=100) is None
        record_outcome("fal", failure())
        with session_scope() as session:
            wait = wait_before_submit(session, "fal", limit=100)
            assert wait is not None
            assert wait.reason == "circuit_open"
            assert 0 < wait.seconds <= get_settings().circuit_open_s
            assert circuit.view(session, "fal").circuit == "open"
        record_outcome("fal", None)
        with session_scope() as session:
            assert wait_before_submit(session, "fal", limit=100) is None
            assert circuit.view(session, "fal").consecutive_failures == 0

    def test_open_circuit_keeps_jobs_queued_unclaimed(self) -> None:
        for _ in range(get_settings().circuit_failure_threshold):
            record_outcome("fal", failure())
        job_id = submit("fal-ai/ltx-video")
        with pytest.raises(Retry):
            generate.run(str(job_id))
        with session_scope() as session:
            job = repository.get(session, job_id)
            assert job is not None
            assert (job.status, job.attempts) == ("queued", 0)

    def test_other_providers_are_not_affected(self) -> None:
        for _ in range(get_settings().circuit_failure_threshold):
            record_outcome("fal", failure())
        with session_scope() as session:
            assert wait_before_submit(session, "replicate", limit=100) is None


class TestConcurrencyLimit:
    def test_waits_when_the_provider_holds_the_limit(self) -> None:
        held = submit("fal-ai/ltx-video")
        with session_scope() as session:
            claim = attempt.start(session, held, lease_s=60)
            assert claim is not None
            job = repository.get_for_update(session, held)
            assert job is not None
            job.submit_state = "submitted"
        with session_scope() as session:
            wait = wait_before_submit(session, "fal", limit=1)
            assert wait is not None
            assert wait.reason == "concurrency_limit"
            assert wait_before_submit(session, "fal", limit=2) is None
