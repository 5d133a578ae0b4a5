"""The generate task's logic, called in-process against real Postgres (no worker)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import redis

from tests.conftest import queued_messages
from tests.job.helpers import submit
from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.errors import PermanentProviderError
from workers.job import messages, repository
from workers.job.models import Job
from workers.job.reader import read_job
from workers.job.run import local as local_run
from workers.job.state import attempt
from workers.job.tasks import generate, sweep
from workers.media.probe import probe
from workers.media.render import Frame
from workers.provider.local import LocalProvider, Rendered
from workers.settings import get_settings

PHASES = ["queue_wait", "model_loading", "generation", "encoding", "upload"]


class ExplodingProvider(LocalProvider):
    def generate(
        self,
        model: str,
        params: dict[str, Any],
        on_first_frame: Callable[[Frame], None] | None = None,
    ) -> Rendered:
        raise RuntimeError("GPU caught fire")


class RejectingProvider(LocalProvider):
    def load(self, model: str) -> None:
        raise PermanentProviderError(message="prompt violates policy", code="content_policy")


def use_provider(monkeypatch: pytest.MonkeyPatch, cls: type[LocalProvider]) -> None:
    monkeypatch.setattr(
        local_run, "local_provider_factory", lambda: cls(model_loading_s=0, generation_s=0, fps=24)
    )


def load(job_id: Any) -> Job:
    with session_scope() as session:
        job = repository.get(session, job_id)
        assert job is not None
        return job


class TestGenerate:
    def test_runs_all_phases_and_stores_file(self) -> None:
        job_id = submit(duration=2)
        generate.run(str(job_id))
        with session_scope() as session:
            read = read_job(session, job_id)
        assert read.status == "succeeded"
        assert [p.name for p in read.phases] == PHASES
        assert read.result is not None
        url = read.result["video"]["url"]
        path = Path(get_settings().storage_dir) / url.split("/media/", 1)[1]
        info = probe(path)
        assert (info.width, info.height, info.duration_s) == (854, 480, 2.0)

    def test_raising_provider_fails_job_with_error(self, monkeypatch: pytest.MonkeyPatch) -> None:
        use_provider(monkeypatch, ExplodingProvider)
        job_id = submit()
        generate.run(str(job_id))
        job = load(job_id)
        assert job.status == "failed"
        assert job.error_code == "internal_error"
        assert job.error_message == "RuntimeError: GPU caught fire"
        assert job.finished_at is not None

    def test_permanent_provider_error_keeps_its_code(self, monkeypatch: pytest.MonkeyPatch) -> None:
        use_provider(monkeypatch, RejectingProvider)
        job_id = submit()
        generate.run(str(job_id))
        job = load(job_id)
        assert (job.status, job.error_code) == ("failed", "content_policy")
        assert job.error_message == "prompt violates policy"

    def test_second_delivery_of_finished_job_changes_nothing(self) -> None:
        job_id = submit()
        generate.run(str(job_id))
        before = load(job_id)
        generate.run(str(job_id))
        after = load(job_id)
        assert (after.attempts, after.finished_at) == (before.attempts, before.finished_at)
        with session_scope() as session:
            assert len(repository.phases_of(session, job_id)) == 5

    def test_delivery_while_held_by_live_worker_is_skipped(self) -> None:
        job_id = submit()
        with session_scope() as session:
            assert attempt.start(session, job_id, lease_s=60) is not None
        generate.run(str(job_id))
        job = load(job_id)
        assert (job.status, job.attempts) == ("running", 1)

    def test_expired_lease_is_taken_over_as_new_attempt(self) -> None:
        job_id = submit()
        with session_scope() as session:
            assert attempt.start(session, job_id, lease_s=60) is not None
            job = repository.get_for_update(session, job_id)
            assert job is not None
            job.lease_expires_at = utcnow() - timedelta(seconds=1)
        generate.run(str(job_id))
        job = load(job_id)
        assert (job.status, job.attempts) == ("succeeded", 2)
        with session_scope() as session:
            phases = repository.phases_of(session, job_id)
        assert [(p.attempt, p.name) for p in phases] == [(1, "queue_wait")] + [
            (2, name) for name in PHASES
        ]


class TestRouting:
    def test_hosted_jobs_go_to_the_hosted_queue_and_local_ones_to_jobs(
        self, redis_client: redis.Redis[bytes]
    ) -> None:
        """A hosted job's tasks wait on I/O (a threads pool serves `hosted`); a local render
        needs a process of its own (`jobs`)."""
        submit()
        assert (
            queued_messages(redis_client, ("jobs",)),
            queued_messages(redis_client, ("hosted",)),
        ) == (1, 0)
        submit("fal-ai/minimax/video-01")
        assert (
            queued_messages(redis_client, ("jobs",)),
            queued_messages(redis_client, ("hosted",)),
        ) == (1, 1)


class TestSweep:
    def test_resends_unsent_and_lease_expired_jobs_only(
        self, redis_client: redis.Redis[bytes]
    ) -> None:
        unsent, expired, fresh = submit(), submit(), submit()
        sent_before = queued_messages(redis_client)
        old = utcnow() - timedelta(minutes=5)
        with session_scope() as session:
            messages.mark_unsent(session, unsent)
            for job_id in (unsent, expired):
                job = repository.get_for_update(session, job_id)
                assert job is not None
                job.created_at = old
            attempt.start(session, expired, lease_s=60)
            job = repository.get_for_update(session, expired)
            assert job is not None
            job.lease_expires_at = old
        assert sweep.run() == 2
        assert queued_messages(redis_client) == sent_before + 2
        assert load(unsent).enqueued_at is not None
        assert load(fresh).status == "queued"
