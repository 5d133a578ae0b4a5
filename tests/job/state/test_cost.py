"""Every job's cost: estimated at creation, actual at its end (real Postgres, in-process).

Local models are free; to see a local job's cost move, some tests price local/video per
second through the MODEL_PRICES_USD setting, as an operator would.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from workers.db.engine import session_scope
from workers.job import producer
from workers.job.reader import read_job
from workers.job.schemas import CostRead, JobCreate
from workers.job.state import attempt, hosted
from workers.job.state.attempt import Attempt
from workers.job.tasks import generate
from workers.provider.base import RemoteState, RemoteStatus, Submission
from workers.settings import PriceOverride, get_settings


@pytest.fixture
def priced_local(monkeypatch: pytest.MonkeyPatch) -> None:
    prices = {"local/video": PriceOverride(unit="second", usd=0.1)}
    monkeypatch.setattr(get_settings(), "model_prices_usd", prices)


def submit(model: str = "local/video", cache: bool = False, **input_: Any) -> uuid.UUID:
    params: dict[str, Any] = {"prompt": "a red fox in snow", **input_}
    return producer.submit(JobCreate(model=model, input=params, cache=cache)).id


def cost(job_id: uuid.UUID) -> CostRead:
    with session_scope() as session:
        return read_job(session, job_id).cost


def started(job_id: uuid.UUID) -> Attempt:
    with session_scope() as session:
        started = attempt.start(session, job_id, lease_s=60)
    assert isinstance(started, Attempt)
    return started


def submitted(job_id: uuid.UUID) -> Attempt:
    """A hosted job taken by a worker and accepted by its provider (the real state path)."""
    current = started(job_id)
    with session_scope() as session:
        assert hosted.record_intent(session, current)
        assert hosted.record_submission(
            session, current, Submission("req-1", {}), first_poll_in_s=60
        )
    return current


def provider_says(job_id: uuid.UUID, current: Attempt, state: RemoteState) -> None:
    ticket = hosted.PollTicket(
        job_id, current.model, "gemini", current.number, Submission("req-1", {}), None
    )
    with session_scope() as session:
        hosted.apply_status(
            session, ticket, RemoteStatus(state, error_message="no"), next_poll_in_s=1
        )


class TestLocal:
    def test_a_local_job_costs_nothing_estimated_or_actual(self) -> None:
        job_id = submit(duration=1)
        assert cost(job_id) == CostRead(
            estimated_usd=0, actual_usd=None, basis="estimate: runs on our own workers: no charge"
        )
        generate.run(str(job_id))
        assert cost(job_id) == CostRead(
            estimated_usd=0, actual_usd=0, basis="runs on our own workers: no charge"
        )

    @pytest.mark.usefixtures("priced_local")
    def test_a_succeeded_job_costs_its_stored_output(self) -> None:
        job_id = submit(duration=2)
        assert cost(job_id).estimated_usd == pytest.approx(0.2)
        generate.run(str(job_id))
        with session_scope() as session:
            read = read_job(session, job_id)
        assert read.result is not None
        assert read.result["video"]["duration"] == 2.0
        assert read.cost == CostRead(estimated_usd=0.2, actual_usd=0.2, basis="2 s × $0.10/s")


@pytest.mark.usefixtures("priced_local")
class TestServedWithoutGenerating:
    def test_a_cache_hit_costs_nothing(self) -> None:
        first = submit(cache=True, duration=3)
        generate.run(str(first))
        hit = producer.submit(
            JobCreate(model="local/video", input={"prompt": "a red fox in snow", "duration": 3})
        )
        assert hit.cache_hit
        assert cost(first).actual_usd == pytest.approx(0.3)
        assert cost(hit.id) == CostRead(
            estimated_usd=0.3, actual_usd=0, basis="cache hit: nothing was generated"
        )

    def test_a_joined_job_costs_nothing_and_its_leader_the_generation(self) -> None:
        leader = submit(cache=True, duration=1)
        follower = submit(cache=True, duration=1)
        generate.run(str(leader))
        assert cost(leader).actual_usd == pytest.approx(0.1)
        assert cost(follower) == CostRead(
            estimated_usd=0.1,
            actual_usd=0,
            basis=f"joined job {leader}: its generation is counted there",
        )


class TestHostedEnds:
    def test_estimated_at_creation_from_the_canonical_input(self) -> None:
        job_id = submit("veo-3.1", duration=8, resolution="1080p")
        assert cost(job_id) == CostRead(
            estimated_usd=3.2, actual_usd=None, basis="estimate: 8 s × $0.40/s at 1080p"
        )

    def test_canceled_before_the_provider_is_free(self) -> None:
        job_id = submit("veo-3.1", duration=8)
        producer.cancel(job_id)
        assert cost(job_id) == CostRead(
            estimated_usd=3.2,
            actual_usd=0,
            basis="canceled before anything billable was generated: no charge",
        )

    def test_a_failure_the_provider_reports_is_free(self) -> None:
        job_id = submit("veo-3.1", duration=8)
        provider_says(job_id, submitted(job_id), RemoteState.FAILED)
        read = cost(job_id)
        assert (read.actual_usd, read.basis) == (
            0,
            "failed before anything billable was generated: no charge",
        )

    def test_failing_after_the_provider_finished_is_billed(self) -> None:
        job_id = submit("veo-3.1", duration=8)
        provider_says(job_id, submitted(job_id), RemoteState.SUCCEEDED)
        with session_scope() as session:  # e.g. the download or the encoding failed for good
            assert attempt.fail(session, job_id, code="empty_result", message="no file")
        assert cost(job_id) == CostRead(
            estimated_usd=3.2,
            actual_usd=3.2,
            basis="the provider finished before the job failed: 8 s × $0.40/s at 720p",
        )

    def test_a_provider_that_bills_accepted_requests_is_paid_on_cancel(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        prices = {"veo-3.1": PriceOverride(charges_failures=True)}
        monkeypatch.setattr(get_settings(), "model_prices_usd", prices)
        queued, accepted = submit("veo-3.1", duration=4), submit("veo-3.1", duration=4)
        submitted(accepted)
        for job_id in (queued, accepted):
            producer.cancel(job_id)
        assert cost(queued).actual_usd == 0
        assert cost(accepted) == CostRead(
            estimated_usd=1.6,
            actual_usd=1.6,
            basis="gemini bills requests it accepted that canceled: 4 s × $0.40/s at 720p",
        )


class TestUnusablePrice:
    def test_never_stops_a_job(self, monkeypatch: pytest.MonkeyPatch) -> None:
        # A per-second price for an image: no length to bill (the API refuses it at start).
        prices = {"local/image": PriceOverride(unit="second", usd=1)}
        monkeypatch.setattr(get_settings(), "model_prices_usd", prices)
        job_id = submit("local/image")
        reason = "a per-second price needs a duration, an output or assumed_seconds"
        assert cost(job_id) == CostRead(
            estimated_usd=None, actual_usd=None, basis=f"no estimate: {reason}"
        )
        generate.run(str(job_id))
        with session_scope() as session:
            read = read_job(session, job_id)
        assert read.status == "succeeded"
        assert read.cost == CostRead(
            estimated_usd=None,
            actual_usd=0,
            basis=f"price could not apply ({reason}): the estimate stands",
        )
