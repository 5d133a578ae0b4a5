"""A batch's webhook: one signed `batch.completed` when every item has ended (the last job
to end, or a cancel, ends it), refused at submission like a job's URL, its delivery log
and redelivery, a key's default, and two items ending at once."""

from __future__ import annotations

import threading
import uuid
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from standardwebhooks import Webhook

from devtools.processes import wait_for
from tests.batch.test_batches import items, rows
from tests.conftest import someone_waits_on_a_lock
from tests.webhook.helpers import deliver_all
from tests.webhook.receiver import Receiver
from workers.batch import producer, release
from workers.batch.models import Batch
from workers.batch.schemas import BatchCreate
from workers.db.engine import new_session, session_scope
from workers.job import producer as jobs
from workers.job.models import Job
from workers.job.state import attempt
from workers.job.tasks import generate
from workers.key.caller import Caller
from workers.settings import get_settings
from workers.webhook.models import WebhookDelivery
from workers.webhook.send import Result

pytestmark = pytest.mark.usefixtures("allow_loopback", "fast_retries")


def submit(client: TestClient, count: int, url: str | None) -> str:
    body: dict[str, Any] = {"items": items(count)}
    if url is not None:
        body["webhook_url"] = url
    response = client.post("/v1/batches", json=body)
    assert response.status_code == 202, response.text
    batch_id: str = response.json()["id"]
    return batch_id


def log_of(client: TestClient, batch_id: str) -> dict[str, Any]:
    response = client.get(f"/v1/batches/{batch_id}/webhooks")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    return found


def batch_hooks(receiver: Receiver) -> list[Any]:
    return [r for r in receiver.received() if r.json["type"] == "batch.completed"]


def verified(client: TestClient, got: Any) -> Any:
    secret = client.get("/v1/webhooks/default/secret").json()["key"]
    return Webhook(secret).verify(got.body, got.headers)


class TestCompleted:
    def test_the_last_item_to_end_sends_batch_completed_once(
        self, client: TestClient, receiver: Receiver
    ) -> None:
        batch_id = submit(client, 6, receiver.url())  # more than BATCH_WINDOW: two rounds
        while True:
            batch = client.get(f"/v1/batches/{batch_id}").json()
            runnable = [i["job_id"] for i in batch["items"] if i["status"] == "queued"]
            if not runnable:
                break
            assert log_of(client, batch_id)["deliveries"] == [], "sent before the end"
            for job_id in runnable:
                generate.run(job_id)
        assert deliver_all() == [Result.DELIVERED]
        [got] = receiver.received()
        payload = verified(client, got)
        assert payload["type"] == "batch.completed"
        assert payload["timestamp"].endswith("Z")
        final = client.get(f"/v1/batches/{batch_id}").json()
        assert payload["data"] == final
        assert payload["data"]["counts"] == {"succeeded": 6}
        assert payload["data"]["done"] is True
        [delivery] = log_of(client, batch_id)["deliveries"]
        assert (delivery["event"], delivery["type"]) == ("completed", "batch.completed")
        assert delivery["state"] == "delivered"
        assert delivery["webhook_id"] == got.headers["webhook-id"]
        # The items named no webhook of their own: nothing was sent for them.
        for item in final["items"]:
            assert client.get(f"/v1/jobs/{item['job_id']}/webhooks").json()["deliveries"] == []

    def test_a_batch_answered_from_the_cache_ends_as_it_is_created(
        self, client: TestClient, receiver: Receiver
    ) -> None:
        cached = [{**item, "cache": True} for item in items(2)]
        first = client.post("/v1/batches", json={"items": cached}).json()["id"]
        for item in client.get(f"/v1/batches/{first}").json()["items"]:
            generate.run(item["job_id"])
        again = client.post("/v1/batches", json={"items": cached, "webhook_url": receiver.url()})
        assert again.status_code == 202, again.text
        batch_id = again.json()["id"]
        assert len(log_of(client, batch_id)["deliveries"]) == 1  # before any worker ran
        assert deliver_all() == [Result.DELIVERED]
        [got] = batch_hooks(receiver)
        data = verified(client, got)["data"]
        assert data["counts"] == {"succeeded": 2}
        assert data == client.get(f"/v1/batches/{batch_id}").json()

    def test_an_ended_batch_is_enqueued_once_however_often_its_end_is_seen(
        self, client: TestClient, receiver: Receiver
    ) -> None:
        batch_id = submit(client, 1, receiver.url())
        client.post(f"/v1/batches/{batch_id}/cancel")
        with session_scope() as session:
            batch = session.get_one(Batch, uuid.UUID(batch_id))
            release.if_ended(session, batch)  # seen again: no second row, no unique error
        assert len(log_of(client, batch_id)["deliveries"]) == 1

    def test_a_batch_without_a_webhook_sends_nothing(
        self, client: TestClient, receiver: Receiver
    ) -> None:
        batch_id = submit(client, 2, None)
        client.post(f"/v1/batches/{batch_id}/cancel")
        assert log_of(client, batch_id) == {
            "batch_id": batch_id,
            "webhook_url": None,
            "deliveries": [],
        }
        assert rows(WebhookDelivery) == 0


class TestCanceled:
    def test_canceling_its_running_items_ends_the_batch(
        self, client: TestClient, receiver: Receiver
    ) -> None:
        batch_id = submit(client, 10, receiver.url())
        assert client.post(f"/v1/batches/{batch_id}/cancel").status_code == 200
        deliver_all()
        [got] = batch_hooks(receiver)
        data = verified(client, got)["data"]
        assert data["counts"] == {"canceled": 10}
        assert data["canceled_at"] is not None

    def test_a_cancel_after_some_items_succeeded_and_a_cancel_again(
        self, client: TestClient, receiver: Receiver
    ) -> None:
        batch_id = submit(client, 10, receiver.url())
        released = client.get(f"/v1/batches/{batch_id}").json()["items"][:4]
        for item in released:
            generate.run(item["job_id"])
        # Four items succeeded, four more were released as they ended, two wait.
        assert log_of(client, batch_id)["deliveries"] == []
        assert client.post(f"/v1/batches/{batch_id}/cancel").status_code == 200
        assert len(log_of(client, batch_id)["deliveries"]) == 1
        # Canceling the ended batch again ends nothing new: still one delivery.
        assert client.post(f"/v1/batches/{batch_id}/cancel").status_code == 200
        deliver_all()
        [got] = batch_hooks(receiver)
        assert verified(client, got)["data"]["counts"] == {"succeeded": 4, "canceled": 6}
        assert len(log_of(client, batch_id)["deliveries"]) == 1


class TestSubmission:
    @pytest.mark.parametrize(
        "url", ["http://127.0.0.1:9/hook", "http://169.254.169.254/latest", "ftp://example.com/"]
    )
    def test_a_url_that_may_not_be_called_is_a_422_naming_the_field(
        self, client: TestClient, url: str, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "webhook_allowlist", "")  # loopback refused again
        bad = items(3)
        bad[1]["input"]["prompt"] = ""
        response = client.post("/v1/batches", json={"items": bad, "webhook_url": url})
        assert response.status_code == 422, response.text
        locs = [e["loc"] for e in response.json()["detail"]]
        # Every refusal at once: the URL and the bad item.
        assert ["body", "webhook_url"] in locs
        assert ["body", "items", 1, "input", "prompt"] in locs
        assert (rows(Batch), rows(Job)) == (0, 0)

    def test_the_keys_default_webhook_takes_a_batch_that_names_none(
        self, client: TestClient, receiver: Receiver
    ) -> None:
        default = {"url": receiver.url("/default"), "events": ["completed"]}
        assert client.put("/v1/webhooks/default", json=default).status_code == 200
        by_default = submit(client, 1, None)
        assert log_of(client, by_default)["webhook_url"] == receiver.url("/default")
        own = submit(client, 1, receiver.url("/own"))
        assert log_of(client, own)["webhook_url"] == receiver.url("/own")
        # A default that does not take `completed` asked for no ends: none for batches.
        starts_only = {"url": receiver.url("/default"), "events": ["started"]}
        assert client.put("/v1/webhooks/default", json=starts_only).status_code == 200
        assert log_of(client, submit(client, 1, None))["webhook_url"] is None

    def test_webhook_events_are_not_taken_on_a_batch(self, client: TestClient) -> None:
        body = {"items": items(1), "webhook_url": "https://example.com/h", "webhook_events": []}
        response = client.post("/v1/batches", json=body)
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "webhook_events"]


class TestLogAndRedelivery:
    def test_a_failed_delivery_is_logged_and_redelivered_with_the_same_id(
        self, client: TestClient, receiver: Receiver
    ) -> None:
        receiver.plan("/hook", 500, 410)
        batch_id = submit(client, 1, receiver.url())
        [item] = client.get(f"/v1/batches/{batch_id}").json()["items"]
        generate.run(item["job_id"])
        assert deliver_all() == [Result.RETRYING, Result.GAVE_UP]
        [failed] = log_of(client, batch_id)["deliveries"]
        assert failed["state"] == "failed"
        assert [(a["attempt"], a["status_code"]) for a in failed["log"]] == [(1, 500), (2, 410)]
        assert failed["log"][0]["error"] == "answered 500"

        response = client.post(f"/v1/batches/{batch_id}/webhooks/redeliver")
        assert response.status_code == 202, response.text
        assert response.json() == {
            "redelivered": [failed["webhook_id"]],
            "already_delivered": [],
            "in_progress": [],
        }
        assert deliver_all() == [Result.DELIVERED]
        sent = batch_hooks(receiver)
        assert [r.answered for r in sent] == [500, 410, 200]
        assert {r.headers["webhook-id"] for r in sent} == {failed["webhook_id"]}
        again = client.post(f"/v1/batches/{batch_id}/webhooks/redeliver").json()
        assert again["already_delivered"] == [failed["webhook_id"]]
        assert again["redelivered"] == []
        [delivered] = log_of(client, batch_id)["deliveries"]
        assert (delivered["state"], delivered["attempts"]) == ("delivered", 3)

    def test_another_owners_batch_is_404(self, client: TestClient, receiver: Receiver) -> None:
        stranger_batch, _ = producer.submit(
            BatchCreate.model_validate({"items": items(1), "webhook_url": receiver.url()}),
            caller=Caller(owner="stranger"),
        )
        assert client.get(f"/v1/batches/{stranger_batch}/webhooks").status_code == 404
        assert client.post(f"/v1/batches/{stranger_batch}/webhooks/redeliver").status_code == 404
        assert client.get(f"/v1/batches/{uuid.uuid4()}/webhooks").status_code == 404


@pytest.mark.committed
def test_two_items_ending_at_once_send_batch_completed_once(receiver: Receiver) -> None:
    caller = Caller(owner="racer")
    body = BatchCreate.model_validate({"items": items(2), "webhook_url": receiver.url()})
    batch_id, _ = producer.submit(body, caller=caller)
    with session_scope() as session:
        first, second = session.scalars(
            select(Job.id).where(Job.batch_id == batch_id).order_by(Job.created_at, Job.id)
        ).all()
    # The first item ends in a transaction held open: it holds the batch's row lock.
    holder = new_session()
    attempt.cancel(holder, first, owner="racer")
    other = threading.Thread(target=jobs.cancel, args=(second,), kwargs={"owner": "racer"})
    other.start()
    try:
        # The second ends meanwhile, and waits for the batch's row.
        wait_for(someone_waits_on_a_lock, 10, "the second ending to wait for the batch")
        with session_scope() as session:
            assert session.scalar(select(WebhookDelivery.id)) is None
    finally:
        holder.commit()
        holder.close()
        other.join(10)
    assert not other.is_alive()
    with session_scope() as session:
        [delivery] = session.scalars(select(WebhookDelivery)).all()
        assert (delivery.batch_id, delivery.job_id) == (batch_id, None)
    deliver_all()
    [got] = batch_hooks(receiver)
    assert got.json["data"]["counts"] == {"canceled": 2}
