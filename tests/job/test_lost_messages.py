"""A message lost after it was sent (a Redis without persistence restarted, a message
consumed without a claim) is replaced by the sweeper, with few duplicates however long the
wait, and a database error in a task retries it instead of dropping the job."""

from __future__ import annotations

import logging
import math
import uuid
from datetime import datetime, timedelta
from typing import Any

import pytest
import redis
from celery.exceptions import Retry
from sqlalchemy.exc import OperationalError

from tests.conftest import KEY_PREFIX, queued_messages
from tests.job.helpers import submit
from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.db.outage import Outage
from workers.job import messages, repository, tasks
from workers.job.models import Job
from workers.job.run import local as local_run
from workers.job.run import sweeper
from workers.job.state import attempt
from workers.job.tasks import generate, sweep
from workers.provider.local import LocalProvider
from workers.settings import get_settings

GRACE_S = 60.0  # LOST_MESSAGE_GRACE_S's default, which the tests run with


class Clock:
    """The sweeper's and the messages' idea of now, moved by the test."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.now = utcnow()
        for module in (sweeper, messages):
            monkeypatch.setattr(module, "utcnow", lambda: self.now)

    def advance(self, seconds: float) -> datetime:
        self.now += timedelta(seconds=seconds)
        return self.now


def lose_every_message(client: redis.Redis[bytes]) -> None:
    """What a Redis without persistence does when it restarts."""
    keys = list(client.scan_iter(match=f"{KEY_PREFIX}*"))
    if keys:
        client.delete(*keys)


def load(job_id: uuid.UUID) -> Job:
    with session_scope() as session:
        job = repository.get(session, job_id)
        assert job is not None
        return job


def db_down() -> OperationalError:
    return OperationalError("SELECT 1", {}, Exception("connection refused"))


class TestResend:
    def test_a_lost_message_is_replaced_after_the_grace_not_before(
        self, monkeypatch: pytest.MonkeyPatch, redis_client: redis.Redis[bytes]
    ) -> None:
        clock = Clock(monkeypatch)
        job_id = submit()
        lose_every_message(redis_client)
        clock.advance(GRACE_S - 1)
        assert sweeper.sweep() == 0
        clock.advance(2)
        assert sweeper.sweep() == 1
        assert queued_messages(redis_client) == 1
        assert load(job_id).status == "queued"

    def test_duplicates_grow_with_the_log_of_the_wait(
        self, monkeypatch: pytest.MonkeyPatch, redis_client: redis.Redis[bytes]
    ) -> None:
        """An hour queued behind a backlog, swept every 30 s: a handful of copies, not 120."""
        clock = Clock(monkeypatch)
        jobs = [submit() for _ in range(3)]
        wait_s = 3600.0
        sent = 0
        for _ in range(int(wait_s / 30)):
            clock.advance(30)
            sent += sweeper.sweep()
        bound = 1 + math.log2(1 + wait_s / GRACE_S)
        assert sent / len(jobs) <= bound
        assert sent == 6 * len(jobs)  # at 60, 120, 240, 480, 960 and 1920 s
        assert {load(job_id).status for job_id in jobs} == {"queued"}

    def test_claimed_joined_and_live_jobs_are_left_alone(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        clock = Clock(monkeypatch)
        running, follower = submit(), submit()
        with session_scope() as session:
            started = attempt.start(session, running, lease_s=3600)
            assert started is not None
            job = repository.get_for_update(session, follower)
            assert job is not None
            job.joined_job_id = running
        assert load(running).resend_at is None  # the claim answered its message
        clock.advance(GRACE_S * 10)
        assert sweeper.sweep() == 0

    def test_a_lost_workers_job_is_sent_once_then_waits_its_turn(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        clock = Clock(monkeypatch)
        job_id = submit()
        with session_scope() as session:
            assert attempt.start(session, job_id, lease_s=1) is not None
        clock.advance(2)  # the lease lapsed: the worker is gone
        assert sweeper.sweep() == 1
        clock.advance(30)
        assert sweeper.sweep() == 0  # its copy is on its way
        clock.advance(GRACE_S)
        assert sweeper.sweep() == 1  # that copy was lost too


class FakeRetry:
    """Stands in for `Task.retry`: records the countdown, raises what Celery raises."""

    def __init__(self) -> None:
        self.countdowns: list[float] = []

    def __call__(self, *, countdown: float, max_retries: int | None = None, **_: Any) -> None:
        self.countdowns.append(countdown)
        raise Retry("retrying", when=countdown)


class TestDatabaseErrorsInTasks:
    def test_a_failed_claim_retries_the_task_and_leaves_the_job_queued(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        job_id = submit()
        retry = FakeRetry()
        monkeypatch.setattr(generate, "retry", retry)

        def refuse(*_: Any, **__: Any) -> None:
            raise db_down()

        monkeypatch.setattr(attempt, "start", refuse)
        with pytest.raises(Retry):
            generate.run(str(job_id))
        assert len(retry.countdowns) == 1
        assert 0 < retry.countdowns[0] <= 60
        job = load(job_id)
        assert (job.status, job.attempts) == ("queued", 0)

    def test_an_error_mid_attempt_retries_after_the_lease_and_fails_nothing(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        class DatabaseGone(LocalProvider):
            def load(self, model: str) -> None:
                raise db_down()

        monkeypatch.setattr(
            local_run,
            "local_provider_factory",
            lambda: DatabaseGone(model_loading_s=0, generation_s=0, fps=24),
        )
        job_id = submit()
        retry = FakeRetry()
        monkeypatch.setattr(generate, "retry", retry)
        with pytest.raises(Retry):
            generate.run(str(job_id))
        assert retry.countdowns == [min(60.0, get_settings().job_lease_s + 1)]
        job = load(job_id)
        assert (job.status, job.error_code) == ("running", None)  # its lease will lapse

    def test_a_sweep_without_a_database_does_nothing_and_says_so_once(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        def refuse() -> int:
            raise db_down()

        monkeypatch.setattr(tasks, "OUTAGE", Outage("database"))  # this process: no outage yet
        monkeypatch.setattr(sweeper, "sweep", refuse)
        with caplog.at_level(logging.WARNING):
            assert [sweep.run() for _ in range(5)] == [0] * 5
        downs = [r for r in caplog.records if r.getMessage().startswith("dependency.down")]
        assert len(downs) == 1
        monkeypatch.setattr(sweeper, "sweep", lambda: 0)
        with caplog.at_level(logging.WARNING):
            sweep.run()
        assert any(r.getMessage().startswith("dependency.up") for r in caplog.records)
