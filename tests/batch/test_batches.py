"""Batches: all or nothing at submission, idempotent, released a few at a time, read back
with counts, results, latency and cost, and canceled as a whole."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from workers.batch.models import Batch
from workers.db.engine import session_scope
from workers.job.models import Job
from workers.job.tasks import generate
from workers.key import service as keys
from workers.key.service import Limits
from workers.settings import PriceOverride, get_settings


def items(count: int, **inputs: Any) -> list[dict[str, Any]]:
    return [
        {
            "model": "local/image",
            "input": {"prompt": f"tile {i}", "resolution": {"width": 64, "height": 64}, **inputs},
            "cache": False,
        }
        for i in range(count)
    ]


def rows(model: type[Any]) -> int:
    with session_scope() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def run_released(client: TestClient, batch_id: str) -> dict[str, Any]:
    """Run the batch's released jobs in this process until every item has ended."""
    while True:
        batch: dict[str, Any] = client.get(f"/v1/batches/{batch_id}").json()
        runnable = [i["job_id"] for i in batch["items"] if i["status"] == "queued"]
        if not runnable:
            return batch
        for job_id in runnable:
            generate.run(job_id)


class TestSubmission:
    def test_a_batch_starts_a_window_of_items_and_keeps_the_rest_waiting(
        self, client: TestClient
    ) -> None:
        response = client.post("/v1/batches", json={"items": items(1000)})
        assert response.status_code == 202, response.text
        batch = client.get(response.json()["urls"]["get"]).json()
        window = get_settings().batch_window
        assert batch["item_count"] == 1000
        assert batch["counts"] == {"queued": window, "pending": 1000 - window}
        assert [i["index"] for i in batch["items"]] == list(range(1000))
        assert all(i["job_id"] for i in batch["items"][:window])
        assert batch["done"] is False
        assert rows(Job) == window

    def test_one_bad_item_refuses_the_whole_batch_naming_each_index_and_field(
        self, client: TestClient
    ) -> None:
        body = items(5)
        body[1]["input"]["prompt"] = ""
        body[3]["model"] = "no/such-model"
        body[4]["idempotency_key"] = "mine"
        response = client.post("/v1/batches", json={"items": body})
        assert response.status_code == 422, response.text
        locs = [tuple(e["loc"]) for e in response.json()["detail"]]
        assert ("body", "items", 1, "input", "prompt") in locs
        assert ("body", "items", 3, "model") in locs
        assert ("body", "items", 4, "idempotency_key") in locs
        assert (rows(Batch), rows(Job)) == (0, 0)

    def test_the_same_idempotency_key_returns_the_same_batch(self, client: TestClient) -> None:
        body = {"items": items(3), "idempotency_key": "nightly-2026-11-30"}
        first = client.post("/v1/batches", json=body)
        again = client.post("/v1/batches", json=body)
        assert (first.status_code, again.status_code) == (202, 200)
        assert again.json()["id"] == first.json()["id"]
        assert (rows(Batch), rows(Job)) == (1, 3)
        other = client.post("/v1/batches", json={**body, "items": items(4)})
        assert other.status_code == 409
        assert "different batch" in other.json()["detail"]

    def test_waiting_items_count_against_the_budget(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        # local models are free: price them through the override, as an operator would
        prices = {"local/image": PriceOverride(unit="image", usd=0.01)}
        monkeypatch.setattr(get_settings(), "model_prices_usd", prices)
        with session_scope() as session:
            limits = Limits(budget_usd=0.05, budget_period="30d")
            _, token = keys.create(session, name="capped", owner="capped", limits=limits)
        capped = {"Authorization": f"Bearer {token}"}
        accepted = client.post("/v1/batches", json={"items": items(5)}, headers=capped)
        assert accepted.status_code == 202, accepted.text
        single = {"model": "local/image", "input": {"prompt": "one more"}, "cache": False}
        refused = client.post("/v1/jobs", json=single, headers=capped)
        # 4 jobs released and 1 item waiting reserve the whole $0.05
        assert refused.status_code == 402, refused.text
        too_big = client.post("/v1/batches", json={"items": items(1)}, headers=capped)
        assert too_big.status_code == 402


class TestRunning:
    def test_items_are_released_as_others_end_until_the_batch_is_done(
        self, client: TestClient
    ) -> None:
        batch_id = client.post("/v1/batches", json={"items": items(10)}).json()["id"]
        batch = run_released(client, batch_id)
        assert batch["done"] is True
        assert batch["counts"] == {"succeeded": 10}
        assert all(i["result"]["images"][0]["url"] for i in batch["items"])
        assert batch["latency"]["total"]["p50"] > 0
        assert set(batch["latency"]["phases"]) >= {"queue_wait", "generation", "upload"}

    def test_cancel_stops_the_running_items_and_never_starts_the_waiting_ones(
        self, client: TestClient
    ) -> None:
        batch_id = client.post("/v1/batches", json={"items": items(10)}).json()["id"]
        canceled = client.post(f"/v1/batches/{batch_id}/cancel")
        assert canceled.status_code == 200, canceled.text
        batch = canceled.json()
        assert batch["done"] is True
        assert batch["counts"] == {"canceled": 10}
        assert batch["canceled_at"] is not None
        assert rows(Job) == get_settings().batch_window  # the waiting items never became jobs

    def test_another_owners_batch_is_404(self, client: TestClient) -> None:
        batch_id = client.post("/v1/batches", json={"items": items(1)}).json()["id"]
        from workers.key import service as keys

        with session_scope() as session:
            _, token = keys.create(session, name="other", owner="other-team")
        theirs = {"Authorization": f"Bearer {token}"}
        assert client.get(f"/v1/batches/{batch_id}", headers=theirs).status_code == 404
        assert client.post(f"/v1/batches/{batch_id}/cancel", headers=theirs).status_code == 404
        assert client.get(f"/v1/batches/{uuid.uuid4()}").status_code == 404
