"""GET /v1/usage over HTTP: grouped sums of the caller's jobs, and 422s that say what to fix."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from workers.job.tasks import generate
from workers.settings import PriceOverride, get_settings


@pytest.fixture
def client(monkeypatch: pytest.MonkeyPatch, api_key: str) -> Iterator[TestClient]:
    prices = {"local/video": PriceOverride(unit="second", usd=0.25)}
    monkeypatch.setattr(get_settings(), "model_prices_usd", prices)
    with TestClient(create_app(), headers={"Authorization": f"Bearer {api_key}"}) as test_client:
        yield test_client


def generated(client: TestClient, seconds: int) -> str:
    body = {"model": "local/video", "input": {"prompt": "a heron", "duration": seconds}}
    job_id: str = client.post("/v1/jobs", json={**body, "cache": False}).json()["id"]
    generate.run(job_id)
    return job_id


class TestUsage:
    def test_by_model_and_by_day(self, client: TestClient) -> None:
        first, second = generated(client, 1), generated(client, 3)
        queued = client.post(
            "/v1/jobs", json={"model": "local/video", "input": {"prompt": "later", "duration": 2}}
        )
        assert queued.status_code == 202
        costs = [client.get(f"/v1/jobs/{job_id}").json()["cost"] for job_id in (first, second)]
        assert [c["actual_usd"] for c in costs] == [0.25, 0.75]

        response = client.get("/v1/usage", params={"group_by": "model"})
        assert response.status_code == 200
        report = response.json()
        assert set(report) == {"owner", "from", "to", "group_by", "rows", "total"}
        assert datetime.fromisoformat(report["to"]) - datetime.fromisoformat(
            report["from"]
        ) == timedelta(days=30)
        [row] = report["rows"]
        assert row == {
            "key": "local/video",
            "jobs": 3,
            "succeeded": 2,
            "failed": 0,
            "canceled": 0,
            "from_cache": 0,
            "video_seconds": 4.0,
            "images": 0,
            "spend_usd": 1.0,
            "pending_usd": 0.5,
        }
        assert report["total"] == {**row, "key": "total"}

        today = client.get(f"/v1/jobs/{first}").json()["created_at"][:10]  # its UTC day
        by_day = client.get("/v1/usage", params={"group_by": "day", "from": today, "to": today})
        assert by_day.status_code == 200
        assert [(r["key"], r["jobs"], r["spend_usd"]) for r in by_day.json()["rows"]] == [
            (today, 3, 1.0)
        ]

    def test_a_window_without_jobs_is_empty(self, client: TestClient) -> None:
        generated(client, 1)
        report = client.get("/v1/usage", params={"from": "2020-01-01", "to": "2020-01-31"}).json()
        assert report["from"] == "2020-01-01T00:00:00Z"
        assert report["to"] == "2020-02-01T00:00:00Z"
        assert report["rows"] == []
        assert report["total"]["jobs"] == 0


class TestRefused:
    @pytest.mark.parametrize(
        ("params", "loc", "says"),
        [
            ({"group_by": "week"}, ["query", "group_by"], "'model' or 'day'"),
            ({"from": "yesterday"}, ["query", "from"], "neither a date (2026-11-30) nor"),
            ({"to": "2026-02-30"}, ["query", "to"], "'2026-02-30' is neither a date"),
            ({"from": "2026-11-30", "to": "2026-11-01"}, ["query", "from"], "must be before to"),
        ],
        ids=["group_by", "from", "to", "reversed"],
    )
    def test_bad_parameters_are_a_422_naming_them(
        self, client: TestClient, params: dict[str, str], loc: list[str], says: str
    ) -> None:
        response = client.get("/v1/usage", params=params)
        assert response.status_code == 422
        [error] = response.json()["detail"]
        assert error["loc"] == loc
        assert says in error["msg"]
