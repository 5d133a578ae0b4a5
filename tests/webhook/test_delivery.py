"""Deliveries in this process against a real receiver on loopback: signatures, retries,
one success per event id, redelivery, the log, the events and where they come from."""

from __future__ import annotations

import uuid
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import update
from standardwebhooks import Webhook, WebhookVerificationError

from tests.webhook.helpers import deliver_all, log_of, pending_ids, submit_with_webhook
from tests.webhook.receiver import HANG, Receiver
from workers.db.base import utcnow
from workers.db.engine import session_scope
from workers.job.reader import read_job
from workers.key import service as keys
from workers.key.service import caller_of
from workers.settings import get_settings
from workers.webhook import secrets, send, sweeper
from workers.webhook.models import WebhookDelivery
from workers.webhook.send import Result

pytestmark = pytest.mark.usefixtures("allow_loopback", "fast_retries")


def secret_of(holder: str = "owner:anonymous") -> str:
    with session_scope() as session:
        return secrets.current(session, holder, utcnow()).secret


def verified(secret: str, got: Any) -> Any:
    """The payload, after the standardwebhooks package verified the delivery."""
    return Webhook(secret).verify(got.body, got.headers)


class TestSigned:
    def test_the_completed_event_verifies_and_carries_the_jobs_json(
        self, receiver: Receiver
    ) -> None:
        job_id = submit_with_webhook(receiver.url())
        assert deliver_all() == [Result.DELIVERED]
        [got] = receiver.received()
        payload = verified(secret_of(), got)
        assert payload["type"] == "job.completed"
        assert payload["timestamp"].endswith("Z")
        with session_scope() as session:
            assert payload["data"] == read_job(session, job_id).model_dump(mode="json")
        assert payload["data"]["status"] == "succeeded"
        assert got.headers["webhook-id"].startswith("msg_")
        assert got.headers["content-type"] == "application/json"
        with pytest.raises(WebhookVerificationError):
            Webhook(secret_of("owner:someone-else")).verify(got.body, got.headers)

    def test_during_a_rotations_overlap_both_secrets_verify(self, receiver: Receiver) -> None:
        old = secret_of()
        with session_scope() as session:
            new = secrets.rotate(session, "owner:anonymous", utcnow()).secret
        submit_with_webhook(receiver.url())
        deliver_all()
        [got] = receiver.received()
        assert len(got.headers["webhook-signature"].split(" ")) == 2
        assert verified(old, got) == verified(new, got)

    def test_after_the_overlap_only_the_new_secret_signs(
        self, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        old = secret_of()
        monkeypatch.setattr(get_settings(), "webhook_secret_overlap_s", 0.0)
        with session_scope() as session:
            new = secrets.rotate(session, "owner:anonymous", utcnow()).secret
        submit_with_webhook(receiver.url())
        deliver_all()
        [got] = receiver.received()
        verified(new, got)
        with pytest.raises(WebhookVerificationError):
            verified(old, got)


class TestRetries:
    def test_500s_then_success_one_id_and_exactly_one_2xx(self, receiver: Receiver) -> None:
        receiver.plan("/hook", 500, 503)
        job_id = submit_with_webhook(receiver.url())
        assert deliver_all() == [Result.RETRYING, Result.RETRYING, Result.DELIVERED]
        sent = receiver.received()
        assert [r.answered for r in sent] == [500, 503, 200]
        assert len({r.headers["webhook-id"] for r in sent}) == 1
        [delivery] = log_of(job_id)["deliveries"]
        assert delivery["state"] == "delivered"
        assert delivery["webhook_id"] == sent[0].headers["webhook-id"]
        log = delivery["log"]
        assert [(a["attempt"], a["status_code"]) for a in log] == [(1, 500), (2, 503), (3, 200)]
        assert [a["error"] for a in log] == ["answered 500", "answered 503", None]
        assert all(a["latency_ms"] > 0 for a in log)
        # A delivered event is never sent again, whatever message still arrives for it.
        [delivery_id] = [uuid.UUID(hex=delivery["webhook_id"].removeprefix("msg_"))]
        assert send.deliver(delivery_id) is Result.SKIPPED
        assert len(receiver.received()) == 3

    def test_a_timeout_then_success(self, receiver: Receiver) -> None:
        receiver.plan("/hook", HANG)
        job_id = submit_with_webhook(receiver.url())
        assert deliver_all() == [Result.RETRYING, Result.DELIVERED]
        log = log_of(job_id)["deliveries"][0]["log"]
        assert log[0]["status_code"] is None
        assert log[0]["error"].startswith("timed out after 1 s")
        assert log[1]["status_code"] == 200

    def test_a_dead_receiver_is_a_connection_failure(self, receiver: Receiver) -> None:
        port = receiver.port
        receiver.close()  # nothing listens there any more
        job_id = submit_with_webhook(f"http://127.0.0.1:{port}/hook")
        assert deliver_all() == [Result.RETRYING] * 3 + [Result.GAVE_UP]
        delivery = log_of(job_id)["deliveries"][0]
        assert delivery["state"] == "failed"
        assert all("could not connect" in a["error"] for a in delivery["log"])

    def test_a_redirect_is_not_followed(self, receiver: Receiver) -> None:
        receiver.plan("/hook", 302)
        job_id = submit_with_webhook(receiver.url())
        deliver_all()
        assert [r.path for r in receiver.received()] == ["/hook", "/hook"]
        first = log_of(job_id)["deliveries"][0]["log"][0]
        assert first["status_code"] == 302
        assert "redirect" in first["error"]
        assert "not followed" in first["error"]

    def test_410_gone_gives_up_at_once(self, receiver: Receiver) -> None:
        receiver.plan("/hook", 410)
        job_id = submit_with_webhook(receiver.url())
        assert deliver_all() == [Result.GAVE_UP]
        assert log_of(job_id)["deliveries"][0]["state"] == "failed"

    def test_a_retry_later_than_a_minute_waits_for_the_sweep(
        self, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "webhook_retry_schedule_s", [3600.0])
        receiver.plan("/hook", 500)
        job_id = submit_with_webhook(receiver.url())
        assert deliver_all() == [Result.RETRYING]
        delivery = log_of(job_id)["deliveries"][0]
        due = delivery["next_attempt_at"]
        assert due is not None
        assert sweeper.sweep() == 0  # not due for an hour: no message, no countdown
        [delivery_id] = pending_ids(job_id)
        assert send.deliver(delivery_id) is Result.SKIPPED
        with session_scope() as session:  # an hour passes
            session.execute(
                update(WebhookDelivery).values(next_attempt_at=utcnow() - timedelta(seconds=1))
            )
        assert sweeper.sweep() == 1
        assert sweeper.sweep() == 0  # its message is on its way
        assert send.deliver(delivery_id) is Result.DELIVERED


class TestRedelivery:
    def test_redelivery_resends_what_failed_with_the_same_id_never_what_was_delivered(
        self, receiver: Receiver, client: TestClient
    ) -> None:
        receiver.plan("/hook", 500, 500, 500, 500)
        job_id = submit_with_webhook(receiver.url(), ["started", "completed"])
        started_id, _ = pending_ids(job_id)
        results = [send.deliver(started_id) for _ in range(4)]
        assert results == [Result.RETRYING] * 3 + [Result.GAVE_UP]
        assert deliver_all() == [Result.DELIVERED]  # the completed event
        log = log_of(job_id)["deliveries"]
        assert [(d["event"], d["state"]) for d in log] == [
            ("started", "failed"),
            ("completed", "delivered"),
        ]
        failed_id = log[0]["webhook_id"]
        response = client.post(f"/v1/jobs/{job_id}/webhooks/redeliver")
        assert response.status_code == 202
        assert response.json() == {
            "redelivered": [failed_id],
            "already_delivered": [log[1]["webhook_id"]],
            "in_progress": [],
        }
        assert deliver_all() == [Result.DELIVERED]
        started = [r for r in receiver.received() if r.json["type"] == "job.started"]
        assert {r.headers["webhook-id"] for r in started} == {failed_id}
        assert [r.answered for r in started] == [500, 500, 500, 500, 200]
        completed = [r for r in receiver.received() if r.json["type"] == "job.completed"]
        assert len(completed) == 1
        after = log_of(job_id)["deliveries"][0]
        assert (after["state"], after["attempts"]) == ("delivered", 5)


class TestEvents:
    def test_started_progress_preview_and_completed_come_from_the_log(
        self, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "webhook_progress_interval_s", 0.0)
        job_id = submit_with_webhook(
            receiver.url(), ["completed", "started", "progress", "preview"], model="local/video"
        )
        deliver_all()
        types = [r.json["type"] for r in receiver.received()]
        assert types[0] == "job.started"
        assert types[-1] == "job.completed"
        assert types.count("job.progress") == 5  # one per phase
        assert "job.preview" in types
        progress = [r.json for r in receiver.received() if r.json["type"] == "job.progress"]
        assert [p["event"]["name"] for p in progress] == [
            "queue_wait",
            "model_loading",
            "generation",
            "encoding",
            "upload",
        ]
        preview = next(r.json for r in receiver.received() if r.json["type"] == "job.preview")
        assert preview["event"]["frame_url"].startswith("http")
        assert len(log_of(job_id)["deliveries"]) == len(types)

    def test_progress_is_throttled_per_job(
        self, receiver: Receiver, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "webhook_progress_interval_s", 3600.0)
        submit_with_webhook(receiver.url(), ["progress"], model="local/video")
        deliver_all()
        [only] = receiver.received()
        assert only.json["event"]["name"] == "queue_wait"

    def test_completed_fires_for_failed_and_canceled_jobs_too(
        self, receiver: Receiver, client: TestClient
    ) -> None:
        job_id = submit_with_webhook(receiver.url(), run=False)
        assert client.post(f"/v1/jobs/{job_id}/cancel").status_code == 200
        deliver_all()
        [got] = receiver.received()
        assert got.json["type"] == "job.completed"
        assert got.json["data"]["status"] == "canceled"

    def test_a_job_without_a_webhook_gets_no_delivery(self, receiver: Receiver) -> None:
        job_id = submit_with_webhook(None)
        assert pending_ids() == []
        assert log_of(job_id)["deliveries"] == []


class TestApi:
    def test_the_secret_is_made_once_per_key_and_rotates(self, client: TestClient) -> None:
        first = client.get("/v1/webhooks/default/secret").json()
        assert first["key"].startswith("whsec_")
        assert client.get("/v1/webhooks/default/secret").json() == first
        rotated = client.post("/v1/webhooks/default/secret/rotate").json()
        assert rotated["key"] != first["key"]
        assert rotated["previous_valid_until"] is not None
        again = client.get("/v1/webhooks/default/secret").json()
        assert again["key"] == rotated["key"]
        with session_scope() as session:
            _, other = keys.create(session, name="other-key", owner="someone")
        theirs = client.get(
            "/v1/webhooks/default/secret", headers={"Authorization": f"Bearer {other}"}
        ).json()
        assert theirs["key"] not in (first["key"], rotated["key"])

    def test_a_jobs_deliveries_are_signed_with_its_keys_secret(
        self, client: TestClient, receiver: Receiver
    ) -> None:
        from workers.job.tasks import generate

        response = client.post(
            "/v1/jobs",
            json={
                "model": "local/image",
                "input": {"prompt": "signed by the key"},
                "webhook_url": receiver.url(),
            },
        )
        assert response.status_code == 202, response.text
        generate.run(response.json()["id"])
        deliver_all()
        [got] = receiver.received()
        secret = client.get("/v1/webhooks/default/secret").json()["key"]
        assert verified(secret, got)["data"]["id"] == response.json()["id"]

    def test_the_keys_default_webhook(self, client: TestClient, receiver: Receiver) -> None:
        assert client.get("/v1/webhooks/default").json() == {"url": None, "events": None}
        body = {"url": receiver.url("/default"), "events": ["completed", "started"]}
        assert client.put("/v1/webhooks/default", json=body).json() == body
        response = client.post(
            "/v1/jobs", json={"model": "local/image", "input": {"prompt": "by default"}}
        )
        job_id = response.json()["id"]
        log = client.get(f"/v1/jobs/{job_id}/webhooks").json()
        assert log["webhook_url"] == receiver.url("/default")
        assert log["webhook_events"] == ["completed", "started"]
        assert client.put("/v1/webhooks/default", json={"url": None}).json()["url"] is None

    def test_events_without_any_url_are_a_422(self, client: TestClient) -> None:
        response = client.post(
            "/v1/jobs",
            json={"model": "local/image", "input": {"prompt": "x"}, "webhook_events": ["started"]},
        )
        assert response.status_code == 422
        assert response.json()["detail"][0]["loc"] == ["body", "webhook_events"]
        bad = client.post(
            "/v1/jobs",
            json={"model": "local/image", "input": {"prompt": "x"}, "webhook_events": ["nope"]},
        )
        assert bad.status_code == 422
        assert bad.json()["detail"][0]["loc"][:2] == ["body", "webhook_events"]

    def test_another_owners_job_is_404(self, client: TestClient, receiver: Receiver) -> None:
        with session_scope() as session:
            key, _ = keys.create(session, name="stranger", owner="stranger")
            stranger = caller_of(key)
        job_id = submit_with_webhook(receiver.url(), caller=stranger, run=False)
        assert client.get(f"/v1/jobs/{job_id}/webhooks").status_code == 404
        assert client.post(f"/v1/jobs/{job_id}/webhooks/redeliver").status_code == 404
        assert client.get(f"/v1/jobs/{uuid.uuid4()}/webhooks").status_code == 404

    def test_the_log_shows_each_attempt(self, client: TestClient, receiver: Receiver) -> None:
        receiver.plan("/hook", 500)
        job_id = submit_with_webhook(receiver.url())
        deliver_all()
        [delivery] = client.get(f"/v1/jobs/{job_id}/webhooks").json()["deliveries"]
        assert delivery["type"] == "job.completed"
        assert delivery["url"] == receiver.url()
        assert [a["status_code"] for a in delivery["log"]] == [500, 200]
