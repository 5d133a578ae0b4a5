"""A poll round's unchanged answers are written together, and only to jobs still waiting
for them (real Postgres, in-process)."""

from __future__ import annotations

import uuid
from datetime import timedelta

from tests.job.helpers import submit
from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.job import producer, repository
from workers.job.models import Job
from workers.job.state import attempt, hosted
from workers.provider.base import RemoteState, RemoteStatus, Submission

MODEL = "fal-ai/minimax/video-01"


def at_provider() -> uuid.UUID:
    """A hosted job taken by a worker and accepted by its provider (the real state path)."""
    job_id = submit(MODEL)
    with session_scope() as session:
        current = attempt.start(session, job_id, lease_s=60)
        assert isinstance(current, attempt.Attempt)
        assert hosted.record_intent(session, current)
        assert hosted.record_submission(
            session, current, Submission(f"req-{job_id}", {}), first_poll_in_s=0
        )
    return job_id


def take_all() -> dict[uuid.UUID, hosted.PollTicket]:
    with session_scope() as session:
        tickets = hosted.take_due_polls(
            session, now=utcnow() + timedelta(seconds=1), limit=10, lease_s=60
        )
    return {ticket.job_id: ticket for ticket in tickets}


def row(job_id: uuid.UUID) -> Job:
    with session_scope() as session:
        job = repository.get(session, job_id)
        assert job is not None
        session.expunge(job)
        return job


def test_only_an_answer_that_repeats_the_last_one_is_left_for_the_round() -> None:
    job_id = at_provider()
    ticket = take_all()[job_id]
    assert ticket.remote_state == RemoteState.QUEUED
    queued, running = RemoteStatus(RemoteState.QUEUED), RemoteStatus(RemoteState.RUNNING)
    assert hosted.unchanged(ticket, queued, next_poll_in_s=5) is not None
    for moved in (running, RemoteStatus(RemoteState.SUCCEEDED)):
        assert hosted.unchanged(ticket, moved, next_poll_in_s=5) is None


def test_a_round_reschedules_waiting_jobs_and_leaves_a_job_that_moved_meanwhile() -> None:
    waiting, canceled = at_provider(), at_provider()
    tickets = take_all()
    producer.cancel(canceled)  # between the round's take and its write
    before = row(canceled)
    answer = RemoteStatus(RemoteState.QUEUED, queue_position=3)
    same = [
        hosted.unchanged(tickets[job_id], answer, next_poll_in_s=30)
        for job_id in (waiting, canceled)
    ]
    with session_scope() as session:
        hosted.reschedule_polls(session, [s for s in same if s is not None])

    after = row(waiting)
    assert after.poll_lease_until is None
    assert after.remote == {"state": "queued", "queue_position": 3}
    assert after.next_poll_at is not None
    assert timedelta(seconds=29) < after.next_poll_at - utcnow() <= timedelta(seconds=30)
    untouched = row(canceled)
    assert (untouched.status, untouched.remote, untouched.next_poll_at) == (
        before.status,
        before.remote,
        before.next_poll_at,
    )
