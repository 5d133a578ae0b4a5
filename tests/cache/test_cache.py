"""The result cache on the server path: real Postgres and Redis, tasks run in-process."""

from __future__ import annotations

import json
import threading
import time
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import text, update

from tests.cache.helpers import VIDEO, body, drop_redis_copies, entries, job, messages, read
from tests.conftest import someone_waits_on_a_lock
from workers.cache import readthrough
from workers.cache.keys import SHARED
from workers.cache.models import CacheEntry
from workers.db.base import utcnow
from workers.db.engine import get_engine, session_scope
from workers.job import producer
from workers.job.models import Source
from workers.job.schemas import JobCreate
from workers.job.state import attempt, intake
from workers.job.tasks import generate
from workers.key.caller import Caller
from workers.settings import get_settings


def generated(client: TestClient, request: dict[str, Any]) -> dict[str, Any]:
    """POST, run the job's task in-process, return the finished job."""
    response = client.post("/v1/jobs", json=request)
    assert response.status_code == 202, response.text
    generate.run(response.json()["id"])
    finished: dict[str, Any] = client.get(f"/v1/jobs/{response.json()['id']}").json()
    assert finished["status"] == "succeeded", finished["error"]
    return finished


def submit(owner: str = "anonymous", **input_: Any) -> producer.Accepted:
    request = body(**input_)
    request_ = JobCreate(model=request["model"], input=request["input"])
    return producer.submit(request_, caller=Caller(owner))


class TestHit:
    def test_equivalent_request_hits_with_no_task(
        self, client: TestClient, redis_client: redis.Redis[bytes]
    ) -> None:
        first = generated(client, body())
        before = messages(redis_client, "jobs")
        spelled_otherwise = {
            "model": "local/video",
            "input": {"duration": 1.0, "prompt": "  a red fox\n in   snow"},
        }
        response = client.post("/v1/jobs", json=spelled_otherwise)
        assert response.status_code == 201, response.text
        hit = response.json()
        assert (hit["status"], hit["cache_hit"]) == ("succeeded", True)
        assert hit["result"] == first["result"]
        assert messages(redis_client, "jobs") == before  # no task sent
        job_ = client.get(hit["urls"]["get"]).json()
        assert (job_["status"], job_["cache_hit"], job_["attempts"]) == ("succeeded", True, 0)
        assert [p["name"] for p in job_["phases"]] == ["cache_lookup"]
        wall = datetime.fromisoformat(job_["finished_at"]) - datetime.fromisoformat(
            job_["created_at"]
        )
        assert abs(job_["phases"][0]["duration_ms"] - wall.total_seconds() * 1000) < 1

    def test_different_request_misses(
        self, client: TestClient, redis_client: redis.Redis[bytes]
    ) -> None:
        generated(client, body())
        before = messages(redis_client, "jobs")
        response = client.post("/v1/jobs", json=body(seed=42))
        assert response.status_code == 202
        assert (response.json()["status"], response.json()["cache_hit"]) == ("queued", False)
        assert messages(redis_client, "jobs") == before + 1

    def test_cache_false_forces_a_generation_that_refreshes_the_entry(
        self, client: TestClient, redis_client: redis.Redis[bytes]
    ) -> None:
        generated(client, body())
        forced = generated(client, {**body(), "cache": False})
        assert forced["cache_hit"] is False
        assert [p["name"] for p in forced["phases"]][-1] == "upload"
        [entry] = entries()
        assert str(entry.result_job_id) == forced["id"]
        assert entry.result == forced["result"]

    @pytest.mark.committed  # deletes the entry through a connection of its own
    def test_hit_is_read_through_redis(self, client: TestClient) -> None:
        generated(client, body())
        assert client.post("/v1/jobs", json=body()).status_code == 201  # copies it to Redis
        with get_engine().begin() as conn:
            conn.execute(text("DELETE FROM cache_entries"))
        response = client.post("/v1/jobs", json=body())  # Postgres has nothing now
        assert response.status_code == 201
        assert response.json()["cache_hit"] is True

    def test_without_redis_postgres_answers(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        generated(client, body())
        monkeypatch.setattr(readthrough, "get_client", lambda: None)
        response = client.post("/v1/jobs", json=body())
        assert (response.status_code, response.json()["cache_hit"]) == (201, True)


class TestExpiry:
    def test_expired_entry_is_not_served(
        self, client: TestClient, redis_client: redis.Redis[bytes]
    ) -> None:
        generated(client, body())
        with session_scope() as session:
            session.execute(update(CacheEntry).values(expires_at=utcnow() - timedelta(seconds=1)))
        drop_redis_copies(redis_client)  # Redis drops its copy at the same instant (PX)
        response = client.post("/v1/jobs", json=body())
        assert (response.status_code, response.json()["status"]) == (202, "queued")

    def test_redis_copy_past_its_expiry_is_ignored(self, redis_client: redis.Redis[bytes]) -> None:
        now = utcnow()
        stale = readthrough.Cached({"images": [{}]}, now + timedelta(seconds=60), None)
        readthrough.put(SHARED, "k" * 64, stale, now)
        assert readthrough.get_fresh((SHARED,), "k" * 64, now) is not None
        assert readthrough.get_fresh((SHARED,), "k" * 64, now + timedelta(seconds=61)) is None

    def test_ttl_is_set_per_model(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "cache_model_ttl_s", {"local/video": 60.0})
        before = utcnow()
        generated(client, body())
        [entry] = entries()
        assert entry.expires_at is not None
        assert before + timedelta(seconds=59) < entry.expires_at < utcnow() + timedelta(seconds=61)

    def test_ttl_zero_turns_a_model_off(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "cache_model_ttl_s", {"local/video": 0})
        generated(client, body())
        assert entries() == []
        assert client.post("/v1/jobs", json=body()).status_code == 202


def wait_until(check: Any, timeout_s: float, what: str) -> Any:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.01)
    raise AssertionError(f"timed out waiting for {what}")


class TestSingleFlight:
    @pytest.mark.committed  # two threads race for the same entry
    def test_two_concurrent_identical_requests_generate_once(
        self, redis_client: redis.Redis[bytes]
    ) -> None:
        barrier = threading.Barrier(2)
        accepted: list[producer.Accepted] = []

        def request() -> None:
            barrier.wait()
            accepted.append(submit())

        threads = [threading.Thread(target=request) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert messages(redis_client, "jobs") == 1  # one generation sent
        jobs = [job(a.id) for a in accepted]
        [leader] = [j for j in jobs if j.joined_job_id is None]
        [follower] = [j for j in jobs if j.joined_job_id is not None]
        assert follower.joined_job_id == leader.id
        generate.run(str(leader.id))
        done_leader, done_follower = read(leader.id), read(follower.id)
        assert done_leader.status == done_follower.status == "succeeded"
        assert done_follower.result == done_leader.result
        assert (done_follower.attempts, done_leader.attempts) == (0, 1)
        assert [p.name for p in done_follower.phases] == ["joined_wait"]
        assert done_follower.joined_job_id == leader.id

    @pytest.mark.committed  # a second thread waits on the first's row lock
    def test_the_database_decides_a_true_race(self) -> None:
        """Two API processes: the second waits on the first's uncommitted claim, then joins."""
        request = JobCreate(model=VIDEO["model"], input=VIDEO["input"])
        first = intake.create_job(session := _open_session(), request)
        assert first.needs_task
        second: list[producer.Accepted] = []
        thread = threading.Thread(target=lambda: second.append(producer.submit(request)))
        thread.start()
        wait_until(someone_waits_on_a_lock, 10, "the second request to wait on the first")
        session.commit()
        session.close()
        thread.join(10)
        follower = job(second[0].id)
        assert follower.joined_job_id == first.job.id

    def test_failed_leader_hands_its_followers_on(self) -> None:
        leader, follower, other = submit(), submit(), submit()
        with session_scope() as session:
            attempt.fail(session, leader.id, code="internal_error", message="boom")
        heir = job(follower.id)
        assert (heir.status, heir.joined_job_id, heir.enqueued_at) == ("queued", None, None)
        assert job(other.id).joined_job_id == heir.id  # follows the new leader
        [entry] = entries()
        assert entry.leader_job_id == heir.id
        generate.run(str(heir.id))
        assert read(other.id).status == "succeeded"

    def test_rejected_leader_fails_its_followers(self) -> None:
        leader, follower = submit(), submit()
        with session_scope() as session:
            attempt.fail(session, leader.id, code="provider_rejected", message="policy")
        failed = job(follower.id)
        assert (failed.status, failed.error_code) == ("failed", "provider_rejected")
        [entry] = entries()
        assert entry.leader_job_id is None


def _open_session() -> Any:
    from workers.db.engine import new_session

    return new_session()


class TestScope:
    def test_a_callers_result_is_kept_to_that_caller(self) -> None:
        alice = submit(owner="alice")
        generate.run(str(alice.id))
        bob = submit(owner="bob")
        assert (bob.status, bob.cache_hit) == ("queued", False)
        again = submit(owner="alice")
        assert (again.status, again.cache_hit) == ("succeeded", True)

    def test_others_do_not_join_a_private_generation(
        self, redis_client: redis.Redis[bytes]
    ) -> None:
        submit(owner="alice")
        bob = submit(owner="bob")
        assert job(bob.id).joined_job_id is None
        assert messages(redis_client, "jobs") == 2

    def test_shared_setting_serves_everyone(self, monkeypatch: pytest.MonkeyPatch) -> None:
        monkeypatch.setattr(get_settings(), "cache_share_results", True)
        alice = submit(owner="alice")
        generate.run(str(alice.id))
        bob = submit(owner="bob")
        assert (bob.status, bob.cache_hit) == ("succeeded", True)

    def test_pre_generated_results_serve_everyone(self) -> None:
        with session_scope() as session:
            prewarm = intake.create_prewarm_job(
                session, model=VIDEO["model"], input_=VIDEO["input"], priority=0
            )
            assert prewarm is not None
            prewarm_id = prewarm.id
        generate.run(str(prewarm_id))
        assert job(prewarm_id).source == Source.PREWARM
        for owner in ("alice", "bob"):
            hit = submit(owner=owner)
            assert (hit.status, hit.cache_hit) == ("succeeded", True)
        [entry] = entries()
        assert entry.scope == SHARED


class TestRedisValue:
    def test_copies_are_namespaced_and_expire_with_the_entry(
        self, client: TestClient, redis_client: redis.Redis[bytes]
    ) -> None:
        generated(client, body())
        client.post("/v1/jobs", json=body())
        [key] = list(redis_client.scan_iter(match=f"{get_settings().broker_key_prefix}cache:*"))
        value = json.loads(redis_client.get(key) or b"{}")
        [entry] = entries()
        assert entry.expires_at is not None
        assert value["e"] == pytest.approx(entry.expires_at.timestamp())
        ttl_s = int(redis_client.pttl(key)) / 1000
        expected = (entry.expires_at - datetime.now(UTC)).total_seconds()
        assert abs(ttl_s - expected) < 5
