"""The one writer of job state: its tables decide, it logs every move, and a terminal move
reaches the one place that reacts to a job's end."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests.job.helpers import submit
from workers.db.engine import session_scope
from workers.errors import InvalidTransition
from workers.job import repository
from workers.job.models import Job, JobEvent
from workers.job.state import ended
from workers.job.state.transitions import STATUS_MOVES, SUBMIT_MOVES, transition
from workers.job.status import JobStatus, SubmitState


def locked(session, job_id: uuid.UUID) -> Job:
    job = repository.get_for_update(session, job_id)
    assert job is not None
    return job


def events(job_id: uuid.UUID) -> list[str]:
    with session_scope() as session:
        return list(
            session.scalars(
                select(JobEvent.type).where(JobEvent.job_id == job_id).order_by(JobEvent.seq)
            )
        )


class TestTables:
    def test_every_status_has_a_row_and_terminal_ones_lead_nowhere(self) -> None:
        assert set(STATUS_MOVES) == {None, *JobStatus}
        for status in JobStatus:
            assert (STATUS_MOVES[status] == frozenset()) == status.is_terminal

    def test_the_moves_the_system_really_makes_are_allowed(self) -> None:
        assert JobStatus.SUCCEEDED in STATUS_MOVES[None]  # a hit found at submission
        assert JobStatus.SUCCEEDED in STATUS_MOVES[JobStatus.QUEUED]  # joined jobs
        assert JobStatus.QUEUED in STATUS_MOVES[JobStatus.RUNNING]  # retry, worker lost
        assert SUBMIT_MOVES[None] == {SubmitState.INTENT}

    def test_a_forbidden_status_move_raises_and_changes_nothing(self) -> None:
        job_id = submit()
        with session_scope() as session:
            job = locked(session, job_id)
            with pytest.raises(InvalidTransition, match="queued cannot become queued"):
                transition(session, job, status=JobStatus.QUEUED, event="x", payload={})
            assert job.status == JobStatus.QUEUED
        assert events(job_id) == ["queued"]

    def test_a_finished_job_cannot_move(self) -> None:
        job_id = submit()
        with session_scope() as session:
            transition(
                session, locked(session, job_id), status=JobStatus.CANCELED, event="c", payload={}
            )
        with session_scope() as session, pytest.raises(InvalidTransition):
            transition(
                session, locked(session, job_id), status=JobStatus.RUNNING, event="r", payload={}
            )

    def test_submission_moves_only_forward_and_records_the_intent_time(self) -> None:
        job_id = submit()
        with session_scope() as session:
            job = locked(session, job_id)
            with pytest.raises(InvalidTransition, match="new cannot become submitted"):
                transition(session, job, submit=SubmitState.SUBMITTED, event="s", payload={})
            transition(session, job, submit=SubmitState.INTENT, event="submitting", payload={})
            assert job.intent_at is not None
            with pytest.raises(InvalidTransition, match="intent cannot become completed"):
                transition(session, job, submit=SubmitState.COMPLETED, event="c", payload={})


class TestEnding:
    def test_leaving_running_releases_every_lease(self) -> None:
        job_id = submit()
        with session_scope() as session:
            job = locked(session, job_id)
            transition(session, job, status=JobStatus.RUNNING, event="running", payload={})
            job.lease_expires_at = job.next_poll_at = job.poll_lease_until = job.created_at
        with session_scope() as session:
            job = locked(session, job_id)
            transition(session, job, status=JobStatus.FAILED, event="failed", payload={})
            assert (job.lease_expires_at, job.next_poll_at, job.poll_lease_until) == (None,) * 3
            assert job.finished_at is not None
        assert events(job_id) == ["queued", "running", "failed"]

    def test_every_terminal_move_reaches_job_ended_once(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        seen: list[tuple[uuid.UUID, str]] = []
        original = ended.job_ended

        def spy(session, job: Job) -> None:
            seen.append((job.id, job.status))
            original(session, job)

        monkeypatch.setattr(ended, "job_ended", spy)
        running, queued = submit(), submit(prompt="another")
        with session_scope() as session:
            job = locked(session, running)
            transition(session, job, status=JobStatus.RUNNING, event="running", payload={})
        assert seen == []
        with session_scope() as session:
            transition(
                session, locked(session, running), status=JobStatus.SUCCEEDED, event="s", payload={}
            )
            transition(
                session, locked(session, queued), status=JobStatus.CANCELED, event="c", payload={}
            )
        assert seen == [(running, "succeeded"), (queued, "canceled")]
