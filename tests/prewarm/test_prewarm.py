"""Pre-generation: the list (API, CLI, YAML) and the beat task, on real Postgres and Redis."""

from __future__ import annotations

import json
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import select, update

from tests.cache.helpers import entries, job, messages, read
from workers.cache.models import CacheEntry
from workers.cli.main import main
from workers.db.engine import session_scope
from workers.job import producer
from workers.job.models import PREWARM_OWNER, Job, Source
from workers.job.schemas import JobCreate
from workers.job.tasks import generate
from workers.key.caller import Caller
from workers.prewarm import scheduler, tasks
from workers.prewarm import service as prewarm_service
from workers.prewarm.models import PrewarmRun
from workers.settings import get_settings

FOX = {"model": "local/video", "input": {"prompt": "a red fox in snow", "duration": 1}}
OWL = {"model": "local/image", "input": {"prompt": "an owl at night"}}
WHALE = {"model": "local/image", "input": {"prompt": "a blue whale"}}
SLOT = datetime(2026, 11, 25, 12, 30, tzinfo=UTC)  # with the default "*/30 * * * *"


def listed(client: TestClient, *items: dict[str, Any]) -> list[int]:
    ids = []
    for item in items:
        response = client.post("/v1/prewarm", json=item)
        assert response.status_code == 201, response.text
        ids.append(response.json()["id"])
    return ids


def prewarm_jobs() -> list[Job]:
    with session_scope() as session:
        return list(
            session.execute(
                select(Job).where(Job.source == Source.PREWARM).order_by(Job.created_at)
            ).scalars()
        )


def run_all(jobs: list[Job]) -> None:
    for job_ in jobs:
        generate.run(str(job_.id))


class TestPrewarmApi:
    def test_add_list_remove(self, client: TestClient) -> None:
        [fox] = listed(client, FOX)
        spelled_otherwise = {**FOX, "input": {"prompt": " a red  fox in snow", "duration": 1.0}}
        again = client.post("/v1/prewarm", json=spelled_otherwise)
        assert (again.status_code, again.json()["id"]) == (200, fox)
        [item] = client.get("/v1/prewarm").json()
        assert item["input"]["width"] == 854  # canonical
        assert item["cache"] == {"state": "missing", "expires_at": None}
        assert client.delete(f"/v1/prewarm/{fox}").status_code == 204
        assert client.get("/v1/prewarm").json() == []
        assert client.delete(f"/v1/prewarm/{fox}").status_code == 404

    @pytest.mark.parametrize(
        ("item", "loc"),
        [
            ({"model": "nope", "input": {"prompt": "x"}}, ["body", "model"]),
            (
                {"model": "local/video", "input": {"prompt": "x", "duration": 99}},
                ["body", "input", "duration"],
            ),
            ({"model": "local/video"}, ["body", "input"]),
        ],
    )
    def test_bad_item_is_422(
        self, client: TestClient, item: dict[str, Any], loc: list[str]
    ) -> None:
        response = client.post("/v1/prewarm", json=item)
        assert response.status_code == 422
        assert loc in [d["loc"] for d in response.json()["detail"]]
        assert client.get("/v1/prewarm").json() == []


class TestPrewarmCli:
    def test_add_list_remove(self, capsys: pytest.CaptureFixture[str]) -> None:
        assert (
            main(["prewarm", "add", "local/image", "--prompt", "an owl", "--resolution", "640x360"])
            == 0
        )
        added = json.loads(capsys.readouterr().out)
        assert (added["created"], added["input"]["width"]) == (True, 640)
        assert main(["prewarm", "list"]) == 0
        assert [p["id"] for p in json.loads(capsys.readouterr().out)] == [added["id"]]
        assert main(["prewarm", "remove", str(added["id"])]) == 0
        capsys.readouterr()
        assert main(["prewarm", "remove", str(added["id"])]) == 2
        assert "no pre-generation prompt" in capsys.readouterr().err

    def test_load_yaml(self, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
        path = tmp_path / "prompts.yaml"
        path.write_text(
            "prompts:\n"
            "  - model: local/image\n    input: {prompt: an owl at night}\n"
            "  - model: local/video\n    input: {prompt: a red fox in snow, duration: 1}\n"
        )
        assert main(["prewarm", "load", str(path)]) == 0
        assert json.loads(capsys.readouterr().out) == {"added": 2, "already_listed": 0}
        assert main(["prewarm", "load", str(path)]) == 0
        assert json.loads(capsys.readouterr().out) == {"added": 0, "already_listed": 2}

    def test_load_names_the_bad_item_and_adds_nothing(
        self, tmp_path: Path, capsys: pytest.CaptureFixture[str]
    ) -> None:
        path = tmp_path / "prompts.yaml"
        path.write_text(
            "- {model: local/image, input: {prompt: ok}}\n"
            "- {model: local/video, input: {prompt: x, duration: 99}}\n"
        )
        assert main(["prewarm", "load", str(path)]) == 2
        assert "prompts.1.input.duration" in capsys.readouterr().err
        assert main(["prewarm", "list"]) == 0
        assert json.loads(capsys.readouterr().out) == []

    def test_run_starts_due_prompts_now(
        self,
        client: TestClient,
        redis_client: redis.Redis[bytes],
        capsys: pytest.CaptureFixture[str],
    ) -> None:
        listed(client, OWL)
        assert main(["prewarm", "run"]) == 0
        assert json.loads(capsys.readouterr().out)["started"] == 1
        assert messages(redis_client, "prewarm") == 1


class TestBeatTask:
    def test_fills_listed_prompts_then_skips_fresh_ones(
        self, client: TestClient, redis_client: redis.Redis[bytes]
    ) -> None:
        listed(client, FOX, OWL)
        assert tasks.run.run() == 2
        assert messages(redis_client, "prewarm") == 2
        assert messages(redis_client, "jobs") == 0  # never on the users' queue
        jobs = prewarm_jobs()
        assert {(j.owner, j.priority, j.status) for j in jobs} == {("prewarm", 0, "queued")}
        run_all(jobs)
        # Pre-generation jobs are their own owner's: no caller's key sees them.
        assert client.get(f"/v1/jobs/{jobs[0].id}").status_code == 404
        done = read(jobs[0].id).model_dump()
        assert (done["status"], done["source"]) == ("succeeded", "prewarm")
        assert [p["name"] for p in done["phases"]] == [
            "queue_wait",
            "model_loading",
            "generation",
            "encoding",
            "upload",
        ]
        assert {p["cache"]["state"] for p in client.get("/v1/prewarm").json()} == {"fresh"}
        # The next slot finds both fresh (they outlive the run after it): nothing to do.
        report = scheduler.fire(datetime.now(UTC) + timedelta(minutes=30))
        assert report is not None
        assert report.started == 0
        hit = client.post("/v1/jobs", json=FOX)
        assert (hit.status_code, hit.json()["cache_hit"]) == (201, True)

    def test_regenerates_what_expires_before_the_next_run(self, client: TestClient) -> None:
        listed(client, FOX, OWL)
        report = scheduler.fire(SLOT)
        assert report is not None
        run_all(prewarm_jobs())
        with session_scope() as session:  # the owl expires before 13:00, the fox after
            session.execute(
                update(CacheEntry)
                .where(CacheEntry.model == "local/image")
                .values(expires_at=SLOT + timedelta(minutes=20))
            )
            session.execute(
                update(CacheEntry)
                .where(CacheEntry.model == "local/video")
                .values(expires_at=SLOT + timedelta(hours=2))
            )
        report = scheduler.fire(SLOT + timedelta(minutes=5))  # still the 12:30 slot
        assert report is None
        report = scheduler.fire(SLOT + timedelta(minutes=30, seconds=2))
        assert report is not None
        assert report.started == 1
        assert prewarm_jobs()[-1].model == "local/image"

    def test_skips_prompts_being_generated(self, client: TestClient) -> None:
        listed(client, FOX)
        producer.submit(JobCreate(**FOX), caller=Caller("prewarm-unrelated"))  # private: not shared
        report = scheduler.fire(SLOT)
        assert report is not None
        assert report.started == 1
        assert scheduler.run_now().started == 0  # the first is still in flight

    def test_caps_jobs_in_flight_and_tops_up(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "prewarm_max_in_flight", 2)
        listed(client, FOX, OWL, WHALE)
        report = scheduler.fire(SLOT)
        assert report is not None
        assert (report.started, report.waiting) == (2, 1)
        still_full = scheduler.top_up(SLOT)
        assert still_full is not None
        assert still_full.started == 0
        run_all(prewarm_jobs()[:1])
        topped = scheduler.top_up(SLOT)
        assert topped is not None
        assert (topped.started, topped.waiting) == (1, 0)
        assert len(prewarm_jobs()) == 3
        scheduler.fire(SLOT + timedelta(minutes=30))
        assert scheduler.top_up(SLOT) is None  # a newer slot took over

    @pytest.mark.committed  # two threads race for the slot's row
    def test_one_firing_per_slot_with_two_beats(self, client: TestClient) -> None:
        listed(client, FOX, OWL)
        barrier = threading.Barrier(2)
        reports: list[Any] = []

        def beat() -> None:
            barrier.wait()
            reports.append(scheduler.fire(SLOT + timedelta(seconds=1)))

        threads = [threading.Thread(target=beat) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(r is None for r in reports) == [False, True]
        assert len(prewarm_jobs()) == 2
        with session_scope() as session:
            [run] = session.execute(select(PrewarmRun)).scalars().all()
        assert (run.slot, run.jobs_started) == (SLOT, 2)

    def test_the_task_entry_twice_fires_once(self, client: TestClient) -> None:
        listed(client, OWL)
        now = datetime.now(UTC)
        if scheduler.cron().next_after(now) - now < timedelta(seconds=30):
            pytest.skip("too close to a slot boundary for two calls to share one")
        assert (tasks.run.run(), tasks.run.run()) == (1, 0)

    def test_adds_the_most_requested_prompts(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        settings = get_settings()
        monkeypatch.setattr(settings, "prewarm_auto_top", 1)
        monkeypatch.setattr(settings, "prewarm_auto_min_requests", 2)
        for _ in range(2):
            producer.submit(JobCreate(**FOX))
        producer.submit(JobCreate(**OWL))  # asked once: not popular enough
        report = scheduler.fire(SLOT)
        assert report is not None
        assert report.auto_added == 1
        # The most requested prompts go on the deployment's own list, not a key's.
        assert client.get("/v1/prewarm").json() == []
        with session_scope() as session:
            [item] = prewarm_service.list_prompts(session, SLOT, owner=PREWARM_OWNER)
        assert (item.model, item.origin) == ("local/video", "auto")
        assert len(entries()) >= 1
        assert job(prewarm_jobs()[0].id).cache_scope == "shared"
