"""A poll round's answers are written together: the unchanged ones in one statement, the
ones that move a job in one transaction; and only to jobs still waiting for them (real
Postgres, in-process)."""

from __future__ import annotations

import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import pytest
from sqlalchemy import exc as sa_exc

from tests.job.helpers import submit
from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.job import producer, repository
from workers.job.models import Job, Phase
from workers.job.run import poller
from workers.job.state import attempt, hosted
from workers.job.status import SubmitState
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


def phase_names(job_id: uuid.UUID) -> list[str]:
    with session_scope() as session:
        return [phase.name for phase in repository.phases_of(session, job_id)]


def test_a_round_moves_its_jobs_in_one_transaction_and_leaves_a_job_that_moved_meanwhile() -> None:
    starting, finished, canceled = at_provider(), at_provider(), at_provider()
    tickets = take_all()
    producer.cancel(canceled)  # between the round's take and its write
    moves = [
        hosted.Move(tickets[starting], RemoteStatus(RemoteState.RUNNING, progress=0.25), 7.0),
        hosted.Move(tickets[finished], RemoteStatus(RemoteState.SUCCEEDED), 7.0),
        hosted.Move(tickets[canceled], RemoteStatus(RemoteState.RUNNING), 7.0),
    ]
    with session_scope() as session:
        advances = hosted.apply_moves(session, moves)

    assert advances == {
        starting: hosted.Advance(changed=True),
        finished: hosted.Advance(finalize=True, changed=True),
        canceled: hosted.Advance(),
    }
    running = row(starting)
    assert running.remote == {"state": "running", "progress": 0.25}
    assert running.poll_lease_until is None
    assert running.next_poll_at is not None
    assert timedelta(seconds=6) < running.next_poll_at - utcnow() <= timedelta(seconds=7)
    assert phase_names(starting) == [Phase.QUEUE_WAIT, Phase.MODEL_LOADING]
    done = row(finished)
    assert done.submit_stage is SubmitState.COMPLETED
    assert phase_names(finished) == [Phase.QUEUE_WAIT, Phase.MODEL_LOADING, Phase.GENERATION]
    assert row(canceled).remote == {"state": "queued"}


def test_one_jobs_surprise_does_not_hold_back_the_rounds_other_moves(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Should the round's transaction fail, each move is recorded on its own: the job
    that cannot be moved stays as it was, the others move."""
    healthy, broken = at_provider(), at_provider()
    tickets = take_all()
    real_apply = hosted._apply

    def apply(session: object, job: Job | None, ticket: hosted.PollTicket, *rest: object) -> object:
        if ticket.job_id == broken:
            raise RuntimeError("a surprise on one job")
        return real_apply(session, job, ticket, *rest)  # type: ignore[arg-type]

    monkeypatch.setattr(hosted, "_apply", apply)
    running = RemoteStatus(RemoteState.RUNNING)
    poller.record_moves(
        [
            poller.Moving(hosted.Move(tickets[job_id], running, 5.0), 1.0, 60.0)
            for job_id in (broken, healthy)
        ]
    )

    assert row(healthy).remote == {"state": "running"}
    assert phase_names(healthy) == [Phase.QUEUE_WAIT, Phase.MODEL_LOADING]
    assert row(broken).remote == {"state": "queued"}
    assert phase_names(broken) == [Phase.QUEUE_WAIT]


def test_an_outage_on_one_write_strands_its_tickets_and_the_rounds_other_write_still_lands(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The unchanged answers' write meets a database outage: their tickets are kept for
    `release`, the moving answers are still recorded, and the round raises the outage."""
    waiting, starting = at_provider(), at_provider()
    tickets = take_all()
    answers: dict[uuid.UUID, object] = {
        waiting: hosted.unchanged(
            tickets[waiting], RemoteStatus(RemoteState.QUEUED), next_poll_in_s=30
        ),
        starting: poller.Moving(
            hosted.Move(tickets[starting], RemoteStatus(RemoteState.RUNNING), 5.0), 1.0, 60.0
        ),
    }
    assert answers[waiting] is not None

    def reschedule_polls(*_: object) -> None:
        raise sa_exc.OperationalError("UPDATE jobs", {}, Exception("server closed the connection"))

    monkeypatch.setattr(hosted, "reschedule_polls", reschedule_polls)
    # The round takes what is due; this one's tickets were taken above, so hand them over.
    monkeypatch.setattr(hosted, "take_due_polls", lambda *_, **__: list(tickets.values()))
    monkeypatch.setattr(poller, "check", lambda ticket: answers[ticket.job_id])
    stranded: list[hosted.PollTicket] = []
    with ThreadPoolExecutor(2) as pool, pytest.raises(sa_exc.OperationalError):
        poller.poll_once(pool, 10, stranded)

    assert stranded == [tickets[waiting]]
    assert row(starting).remote == {"state": "running"}
    assert row(waiting).poll_lease_until is not None  # still leased to this poller
    poller.release(stranded)
    given_back = row(waiting)
    assert given_back.poll_lease_until is None
    assert given_back.remote == {"state": "queued", "last_error": "database_unavailable"}
