"""`"model": "auto"`: the choice follows the latency recorded for such jobs (phase rows of
past jobs written here), and a request nothing fits is refused naming what would."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from workers.catalog.registry import get_model
from workers.catalog.validation import normalize_input
from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.job.models import Job, JobPhase
from workers.settings import get_settings

FIVE = ("queue_wait", "model_loading", "generation", "encoding", "upload")
SOMEONE = "someone-else"  # a model's speed is learned from every owner's jobs
# Each model's own defaults: every text-to-video model takes a bare prompt.
SHAPE: dict[str, Any] = {}
FIVE_AT_720: dict[str, Any] = {"duration": 5, "resolution": "720p"}


def record(model: str, wall_s: float, *, count: int | None = None, **shape: Any) -> None:
    """`count` past jobs of `model` that succeeded by generating in `wall_s`, with their
    five phases."""
    spec = get_model(model)
    canonical = normalize_input(spec, {"prompt": "a lighthouse", **shape})
    now = utcnow()
    with session_scope() as session:
        for i in range(count or get_settings().auto_min_jobs):
            finished = now - timedelta(minutes=10 + i)
            job = Job(
                id=uuid.uuid4(),
                owner=SOMEONE,
                model=spec.id,
                kind=spec.kind,
                provider=spec.provider,
                input=canonical,
                status="succeeded",
                request_hash="0" * 64,
                attempts=1,
                created_at=finished - timedelta(seconds=wall_s),
                finished_at=finished,
            )
            session.add(job)
            session.flush()
            session.add_all(
                JobPhase(
                    job_id=job.id,
                    attempt=1,
                    name=name,
                    started_at=finished,
                    duration_ms=wall_s * 1000 / len(FIVE),
                )
                for name in FIVE
            )


def auto(client: TestClient, shape: dict[str, Any] | None = None, **fields: Any) -> Any:
    body = {
        "model": "auto",
        "task": "text-to-video",
        "input": {"prompt": f"a red fox {uuid.uuid4()}", **(shape or SHAPE)},
        **fields,
    }
    return client.post("/v1/jobs", json=body)


def chosen(client: TestClient, **fields: Any) -> dict[str, Any]:
    answer = auto(client, **fields)
    assert answer.status_code == 202, answer.text
    choice: dict[str, Any] = answer.json()["auto_choice"]
    assert answer.headers["X-Model-Chosen"] == choice["model"] == answer.json()["model"]
    return choice


def test_the_choice_follows_recorded_latency(client: TestClient) -> None:
    # Nothing recorded: the catalog's typical latencies decide; 50 s allows a balanced model.
    first = chosen(client, max_latency_s=50)
    assert first["basis"] == "catalog"
    balanced = [c for c in first["candidates"] if c["tier"] == "balanced" and c["fits"]]
    assert balanced, first
    assert get_model(first["model"]).tier == "balanced"
    assert first["expected_p90_s"] == min(c["expected_p90_s"] for c in balanced)

    # Every balanced model that fitted turns out slower than the budget for such jobs:
    # the choice falls back to the fast tier.
    for candidate in balanced:
        record(candidate["model"], 80)
    second = chosen(client, max_latency_s=50)
    assert get_model(second["model"]).tier == "fast", second
    slow = {c["model"]: c for c in second["candidates"]}
    for candidate in balanced:
        assert slow[candidate["model"]]["basis"] == "recorded"
        assert slow[candidate["model"]]["expected_p90_s"] == pytest.approx(80, abs=0.01)
        assert not slow[candidate["model"]]["fits"]


def test_a_faster_recording_wins_within_its_tier(client: TestClient) -> None:
    first = chosen(client, max_latency_s=50)
    balanced = [c["model"] for c in first["candidates"] if c["tier"] == "balanced" and c["fits"]]
    other = next(m for m in balanced if m != first["model"]) if len(balanced) > 1 else None
    if other is None:
        pytest.skip("one balanced model only in this catalog")
    record(first["model"], 44)
    record(other, 12)
    again = chosen(client, max_latency_s=50)
    assert again["model"] == other
    assert again["basis"] == "recorded"
    assert again["expected_p90_s"] == pytest.approx(12, abs=0.01)


def test_tier_caps_the_choice(client: TestClient) -> None:
    assert get_model(chosen(client, tier="fast")["model"]).tier == "fast"
    top = chosen(client)  # no budget, no tier: the best tier there is
    assert get_model(top["model"]).tier == "quality"


def test_nothing_fits_names_a_shorter_duration_and_a_lower_resolution(
    client: TestClient,
) -> None:
    # local/video, the fastest model, takes 3 s for 5 s at 720p; 0.4 s for 2 s at 720p,
    # or for 5 s at 480p. The catalog's figures for the others are far over 0.5 s.
    record("local/video", 3.0, **FIVE_AT_720)
    record("local/video", 0.4, duration=2, resolution="720p")
    record("local/video", 0.45, duration=5, resolution="480p")
    answer = auto(client, FIVE_AT_720, max_latency_s=0.5)
    assert answer.status_code == 422, answer.text
    errors = {tuple(e["loc"]): e["msg"] for e in answer.json()["detail"]}
    assert "within 0.5 s" in errors[("body", "max_latency_s")]
    assert "local/video p90 3.0 s (recorded, 5 jobs)" in errors[("body", "max_latency_s")]
    assert errors[("body", "input", "duration")] == (
        "2 s instead of 5 s would fit: local/video at 720p, p90 0.4 s (recorded, 5 jobs)"
    )
    assert errors[("body", "input", "resolution")] == (
        "480p instead of 720p would fit: local/video for 5 s, p90 0.5 s (recorded, 5 jobs)"
    )
    with session_scope() as session:  # nothing was written for the refused request
        assert session.query(Job).filter(Job.owner != SOMEONE).count() == 0


def test_the_job_keeps_the_choice_and_the_catalog_shows_recorded_latency(
    client: TestClient,
) -> None:
    record("local/video", 2.0, count=10)
    answer = auto(client, tier="fast", max_latency_s=5)
    assert answer.status_code == 202, answer.text
    job = client.get(f"/v1/jobs/{answer.json()['id']}").json()
    assert job["model"] == "local/video"
    assert job["auto_choice"]["model"] == "local/video"
    assert "fastest of its tier" in job["auto_choice"]["reason"]
    models = {m["id"]: m for m in client.get("/v1/models").json()}
    figures = models["local/video"]["recorded_latency"]
    assert figures["jobs"] == 10
    assert figures["p50_s"] == pytest.approx(2.0, abs=0.01)
    assert figures["p90_s"] == pytest.approx(2.0, abs=0.01)
    assert models["fal-ai/ltx-video"]["recorded_latency"]["jobs"] == 0


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"model": "auto", "task": None}, "task"),
        ({"model": "local/video", "tier": "fast"}, "tier"),
        ({"model": "local/video", "max_latency_s": 3}, "max_latency_s"),
    ],
)
def test_auto_fields_only_with_auto(client: TestClient, fields: dict[str, Any], field: str) -> None:
    body = {"input": {"prompt": "p"}, **fields}
    answer = client.post("/v1/jobs", json=body)
    assert answer.status_code == 422
    assert field in answer.text
