"""A worker told to stop hands its running job back and starts nothing new: a generate
message that still reaches it goes back to the broker, the job untouched (real Postgres;
the signal test forks a process that plays a prefork pool process)."""

from __future__ import annotations

import multiprocessing
import os
import signal
import threading
from multiprocessing.connection import Connection

import pytest
from celery.exceptions import Reject
from sqlalchemy import select

from tests.job.helpers import submit
from workers import shutdown
from workers.db.engine import session_scope
from workers.job import repository
from workers.job.models import JobEvent
from workers.job.tasks import generate


def test_a_stopping_worker_puts_a_generate_message_back_without_claiming_its_job(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    job_id = submit()
    stopping = threading.Event()
    stopping.set()
    monkeypatch.setattr(shutdown, "requested", stopping)

    with pytest.raises(Reject) as rejected:
        generate.run(str(job_id))

    assert rejected.value.requeue is True
    with session_scope() as session:
        job = repository.get(session, job_id)
        assert job is not None
        assert (job.status, job.attempts, job.started_at) == ("queued", 0, None)
        events = session.scalars(select(JobEvent.type).where(JobEvent.job_id == job_id)).all()
    assert list(events) == ["queued"]


def _pool_process(report: Connection) -> None:
    """A pool process: a task runs, SIGTERM arrives, the task ends, the next one starts."""
    shutdown.in_pool_process()
    shutdown.task_started()
    os.kill(os.getpid(), signal.SIGTERM)
    seen = {"during the task": shutdown.requested.is_set()}
    shutdown.task_ended()
    seen["after the task"] = shutdown.requested.is_set()
    shutdown.task_started()  # the next task in this process
    try:
        shutdown.pause(30)
        seen["the next task's wait ended early"] = False
    except shutdown.ShuttingDown:
        seen["the next task's wait ended early"] = True
    report.send(seen)


def test_sigterm_during_a_task_stops_the_pool_process_for_good() -> None:
    """The handed-back job's own message may reach the same process after its task ended:
    the stop must still stand there."""
    ours, theirs = multiprocessing.get_context("fork").Pipe()
    child = multiprocessing.get_context("fork").Process(target=_pool_process, args=(theirs,))
    child.start()
    assert ours.poll(30), "the pool process did not report"
    seen = ours.recv()
    child.join(30)
    assert seen == {
        "during the task": True,
        "after the task": True,
        "the next task's wait ended early": True,
    }
    assert child.exitcode == 0
