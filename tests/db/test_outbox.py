"""Messages are sent after their transaction commits, dropped on rollback, and a send that
fails leaves the job for the sweeper: the mechanism every sender uses."""

from __future__ import annotations

import pytest
import redis

from tests.conftest import queued_messages
from tests.job.helpers import submit
from workers.celery_app import app
from workers.db.engine import session_scope
from workers.job import messages, repository
from workers.job.tasks import generate, sweep


class Boom(Exception):
    pass


def load_enqueued_at(job_id):
    with session_scope() as session:
        job = repository.get(session, job_id)
        assert job is not None
        return job.enqueued_at


class TestAfterCommit:
    def test_a_message_is_sent_only_once_its_transaction_commits(
        self, redis_client: redis.Redis[bytes]
    ) -> None:
        job_id = submit()
        before = queued_messages(redis_client)
        with session_scope() as session:
            messages.generate_after_commit(session, job_id, 5)
            assert queued_messages(redis_client) == before  # not before the commit
        assert queued_messages(redis_client) == before + 1

    def test_a_rolled_back_transaction_sends_nothing(
        self, redis_client: redis.Redis[bytes]
    ) -> None:
        job_id = submit()
        before = queued_messages(redis_client)

        def send_then_fail() -> None:
            with session_scope() as session:
                messages.generate_after_commit(session, job_id, 5)
                raise Boom

        with pytest.raises(Boom):
            send_then_fail()
        with session_scope():
            pass  # a later transaction on a new session does not pick it up either
        assert queued_messages(redis_client) == before

    def test_a_failed_send_leaves_the_job_for_the_sweeper(
        self, monkeypatch: pytest.MonkeyPatch, redis_client: redis.Redis[bytes]
    ) -> None:
        def refuse(*args: object, **kwargs: object) -> None:
            raise ConnectionError("broker down")

        monkeypatch.setattr(app, "send_task", refuse)
        job_id = submit()  # accepted although its message could not be sent
        assert load_enqueued_at(job_id) is None
        monkeypatch.undo()
        before = queued_messages(redis_client)
        with session_scope() as session:
            job = repository.get_for_update(session, job_id)
            assert job is not None
            job.created_at = job.created_at.replace(year=2000)  # past the grace period
        assert sweep.run() == 1
        assert queued_messages(redis_client) == before + 1
        assert load_enqueued_at(job_id) is not None


class TestIdsOnly:
    @pytest.mark.parametrize("bad", [{"prompt": "x"}, ["id"], 1.5, True, None])
    def test_every_send_path_refuses_anything_but_ids(self, bad: object) -> None:
        with pytest.raises(TypeError, match="takes ids only"):
            app.send_task("job.generate", args=[bad])
        with pytest.raises(TypeError, match="takes ids only"):
            generate.apply_async(args=[bad])
        with pytest.raises(TypeError, match="takes ids only"):
            generate.delay(bad)
        with pytest.raises(TypeError, match="takes ids only"):
            app.send_task("job.generate", kwargs={"job_id": bad})
