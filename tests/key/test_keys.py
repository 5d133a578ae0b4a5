"""API keys in-process: the CLI, 401s, per-key isolation, the in-flight cap, body limits."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from tests.job.helpers import submit
from workers.cli.main import main
from workers.db.engine import session_scope
from workers.job.tasks import generate
from workers.key import service
from workers.key.ratelimit import _take_in_database
from workers.key.service import Limits
from workers.settings import PriceOverride, get_settings

VIDEO = {"model": "local/video", "input": {"prompt": "a red fox in snow", "duration": 1}}


def new_key(name: str, **limits: Any) -> str:
    with session_scope() as session:
        _, token = service.create(session, name=name, limits=Limits(**limits))
    return token


@pytest.fixture
def app_client() -> Iterator[TestClient]:
    """The API with no key set: each request says which key it uses."""
    with TestClient(create_app()) as test_client:
        yield test_client


def as_key(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


class TestCli:
    def test_create_prints_the_key_alone_on_the_last_line_and_stores_only_its_hash(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        assert main(["keys", "create", "--name", "render-farm", "--rpm", "60"]) == 0
        token = capsys.readouterr().out.rstrip("\n").splitlines()[-1]
        assert token.startswith("ak_")
        assert len(token) > 30
        with session_scope() as session:
            [key] = service.all_keys(session)
            assert (key.name, key.owner, key.rpm) == ("render-farm", "render-farm", 60)
            assert token not in (key.hash, key.prefix)
            assert token.startswith(key.prefix)
        assert service.authenticate(token) is not None

    def test_list_update_and_revoke_by_prefix(self, capsys: pytest.CaptureFixture[str]) -> None:
        token = new_key("billing")
        prefix = token[:11]
        assert main(["keys", "update", prefix, "--max-in-flight", "3"]) == 0
        assert main(["keys", "list"]) == 0
        listed = capsys.readouterr().out
        assert prefix in listed
        assert token not in listed
        assert main(["keys", "revoke", "billing"]) == 0
        service.forget_cached_keys()
        assert service.authenticate(token) is None

    def test_bad_limits_and_a_taken_name_are_clear_errors(
        self, capsys: pytest.CaptureFixture[str]
    ) -> None:
        new_key("taken")
        assert main(["keys", "create", "--name", "taken"]) == 2
        assert main(["keys", "create", "--name", "b", "--budget-usd", "5"]) == 2
        assert main(["keys", "create", "--name", "c", "--rpm", "0"]) == 2
        errors = capsys.readouterr().err
        assert "exists already" in errors
        assert "--budget-usd and --budget-period together" in errors
        assert "rpm must be at least 1" in errors
        assert "Traceback" not in errors

    def test_submit_and_status_act_as_a_key(
        self, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "var_dir", get_settings().var_dir / uuid.uuid4().hex)
        monkeypatch.delenv("ABSTRAKT_API_KEY", raising=False)
        assert main(["submit", "local/image", "--prompt", "an owl"]) == 2
        assert "acts as an API key" in capsys.readouterr().err
        token = new_key("cli-user")
        assert main(["submit", "local/image", "--prompt", "an owl", "--api-key", token]) == 0
        job_id = capsys.readouterr().out.split('"id": "')[1].split('"')[0]
        monkeypatch.setenv("ABSTRAKT_API_KEY", new_key("someone-else"))
        assert main(["status", job_id]) == 2
        assert "no job with id" in capsys.readouterr().err
        assert main(["status", job_id, "--api-key", token]) == 0


class TestAuth:
    @pytest.mark.parametrize(
        "headers",
        [{}, {"Authorization": "Bearer ak_notarealkeynotarealkey00"}, {"Authorization": "Basic x"}],
    )
    def test_every_route_but_healthz_wants_a_live_key(
        self, app_client: TestClient, headers: dict[str, str]
    ) -> None:
        for method, path in [
            ("GET", "/v1/models"),
            ("GET", "/v1/providers"),
            ("GET", "/v1/prewarm"),
            ("POST", "/v1/jobs"),
            ("GET", f"/v1/jobs/{uuid.uuid4()}"),
            ("POST", f"/v1/jobs/{uuid.uuid4()}/cancel"),
        ]:
            response = app_client.request(method, path, headers=headers, json=VIDEO)
            assert response.status_code == 401, (method, path)
            assert response.json() == {"detail": UNAUTHORIZED_DETAIL}
        assert app_client.get("/healthz").status_code == 200

    def test_a_revoked_key_is_refused(self, app_client: TestClient) -> None:
        token = new_key("leaving")
        assert app_client.get("/v1/models", headers=as_key(token)).status_code == 200
        with session_scope() as session:
            service.revoke(session, "leaving")
        service.forget_cached_keys()  # the other process case is in tests/e2e/test_auth.py
        assert app_client.get("/v1/models", headers=as_key(token)).status_code == 401

    def test_auth_disabled_serves_everyone_as_anonymous(
        self, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
    ) -> None:
        monkeypatch.setattr(get_settings(), "auth_disabled", True)
        with TestClient(create_app()) as anonymous:
            assert anonymous.post("/v1/jobs", json=VIDEO).status_code == 202
        assert "auth.disabled" in caplog.text


class TestIsolation:
    def test_another_keys_job_is_404_on_every_job_route(self, app_client: TestClient) -> None:
        alice, bob = new_key("alice"), new_key("bob")
        created = app_client.post("/v1/jobs", json=VIDEO, headers=as_key(alice))
        job_id = created.json()["id"]
        unknown = uuid.uuid4()
        for method, path in [("GET", "/v1/jobs/{}"), ("POST", "/v1/jobs/{}/cancel")]:
            theirs = app_client.request(method, path.format(job_id), headers=as_key(bob))
            nobody = app_client.request(method, path.format(unknown), headers=as_key(bob))
            assert theirs.status_code == nobody.status_code == 404
            assert theirs.json()["detail"].replace(job_id, "") == nobody.json()["detail"].replace(
                str(unknown), ""
            )
        assert app_client.get(f"/v1/jobs/{job_id}", headers=as_key(alice)).status_code == 200

    def test_prewarm_lists_are_per_key(self, app_client: TestClient) -> None:
        alice, bob = new_key("alice"), new_key("bob")
        body = {"model": "local/image", "input": {"prompt": "an owl"}}
        added = app_client.post("/v1/prewarm", json=body, headers=as_key(alice))
        assert added.status_code == 201
        assert app_client.get("/v1/prewarm", headers=as_key(bob)).json() == []
        item = added.json()["id"]
        assert app_client.delete(f"/v1/prewarm/{item}", headers=as_key(bob)).status_code == 404
        assert app_client.delete(f"/v1/prewarm/{item}", headers=as_key(alice)).status_code == 204

    def test_private_cache_results_stay_with_their_owner(self, app_client: TestClient) -> None:
        alice, bob = new_key("alice"), new_key("bob")
        first = app_client.post("/v1/jobs", json=VIDEO, headers=as_key(alice)).json()
        generate.run(first["id"])
        again = app_client.post("/v1/jobs", json=VIDEO, headers=as_key(alice)).json()
        other = app_client.post("/v1/jobs", json=VIDEO, headers=as_key(bob)).json()
        assert (again["cache_hit"], other["cache_hit"]) == (True, False)


class TestInFlightCap:
    def test_the_cap_refuses_with_its_numbers_and_frees_on_cancel_and_completion(
        self, app_client: TestClient
    ) -> None:
        token = new_key("capped", max_in_flight=2)
        first, second = (
            app_client.post(
                "/v1/jobs", json={**VIDEO, "cache": False}, headers=as_key(token)
            ).json()["id"]
            for _ in range(2)
        )
        refused = app_client.post("/v1/jobs", json={**VIDEO, "cache": False}, headers=as_key(token))
        assert refused.status_code == 429
        assert "allows 2 jobs queued or running at once and has 2" in refused.json()["detail"]
        # when the oldest should end: local/video's typical second, at least 1 s
        assert refused.headers["Retry-After"] == "1"
        app_client.post(f"/v1/jobs/{first}/cancel", headers=as_key(token))
        freed = app_client.post("/v1/jobs", json={**VIDEO, "cache": False}, headers=as_key(token))
        assert freed.status_code == 202
        generate.run(second)
        assert (
            app_client.post(
                "/v1/jobs", json={**VIDEO, "cache": False}, headers=as_key(token)
            ).status_code
            == 202
        )
        other = submit()  # another owner's jobs do not count
        assert other


class TestBudget:
    def test_the_budget_reserves_estimates_refuses_with_402_and_frees_on_cancel(
        self, app_client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        prices = {"local/video": PriceOverride(unit="second", usd=0.25)}
        monkeypatch.setattr(get_settings(), "model_prices_usd", prices)
        token = new_key("thrifty", budget_usd=1.0, budget_period="1d")
        two_seconds = {**VIDEO, "input": {"prompt": "a fox", "duration": 2}, "cache": False}

        def post() -> Any:
            return app_client.post("/v1/jobs", json=two_seconds, headers=as_key(token))

        first, second = post(), post()  # $0.50 reserved each: exactly the budget
        assert (first.status_code, second.status_code) == (202, 202)
        refused = post()
        assert refused.status_code == 402
        detail = refused.json()["detail"]
        assert "$1.00 per 1 d" in detail
        assert "$1.0000 is spent or reserved" in detail
        assert "resets at" in detail
        app_client.post(f"/v1/jobs/{first.json()['id']}/cancel", headers=as_key(token))
        assert post().status_code == 202  # the canceled job gave its reservation back
        generate.run(second.json()["id"])
        done = app_client.get(f"/v1/jobs/{second.json()['id']}", headers=as_key(token)).json()
        assert done["cost"]["actual_usd"] == pytest.approx(0.5)
        assert post().status_code == 402


class TestRequestLimits:
    def test_a_body_over_the_limit_is_413_and_writes_nothing(self, client: TestClient) -> None:
        huge = {**VIDEO, "input": {"prompt": "x" * (get_settings().max_body_bytes + 10)}}
        response = client.post("/v1/jobs", json=huge)
        assert response.status_code == 413
        assert "MAX_BODY_BYTES" in response.json()["detail"]

    def test_a_chunked_body_over_the_limit_is_413(self, client: TestClient) -> None:
        def chunks() -> Iterator[bytes]:
            yield b'{"model": "local/video", "input": {"prompt": "'
            for _ in range(get_settings().max_body_bytes // 1000 + 2):
                yield b"x" * 1000
            yield b'"}}'

        response = client.post(
            "/v1/jobs", content=chunks(), headers={"Content-Type": "application/json"}
        )
        assert response.status_code == 413

    def test_unknown_input_fields_and_long_idempotency_keys_are_named(
        self, client: TestClient
    ) -> None:
        unknown = client.post("/v1/jobs", json={**VIDEO, "input": {"prompt": "x", "colour": 1}})
        assert unknown.status_code == 422
        assert "colour" in unknown.text
        long_key = client.post("/v1/jobs", json={**VIDEO, "idempotency_key": "k" * 256})
        assert long_key.status_code == 422
        assert "idempotency_key" in long_key.text


class TestRateHeaders:
    def test_every_answer_carries_the_keys_rate_errors_included(
        self, app_client: TestClient
    ) -> None:
        token = new_key("rated", rpm=10)
        created = app_client.post("/v1/jobs", json=VIDEO, headers=as_key(token))
        missing = app_client.get(f"/v1/jobs/{uuid.uuid4()}", headers=as_key(token))
        invalid = app_client.post("/v1/jobs", json={"model": "nope"}, headers=as_key(token))
        assert (created.status_code, missing.status_code, invalid.status_code) == (202, 404, 422)
        remaining = [r.headers["RateLimit-Remaining"] for r in (created, missing, invalid)]
        assert remaining == ["9", "8", "7"]  # one token per request, on every answer
        assert missing.headers["RateLimit-Limit"] == "10"


class TestRateBucketInTheDatabase:
    """The embedded default's bucket (no Redis): the same arithmetic as the Redis script."""

    def test_a_full_bucket_admits_its_size_then_refuses_with_the_wait(self) -> None:
        with session_scope() as session:
            now = session.execute(text_now()).scalar_one()
            decisions = [_take_in_database(session, "t", rpm=3, now=now) for _ in range(4)]
        assert [d.allowed for d in decisions] == [True, True, True, False]
        assert [d.remaining for d in decisions] == [2, 1, 0, 0]
        assert decisions[-1].retry_after_s == pytest.approx(20.0)


UNAUTHORIZED_DETAIL = "a valid API key is required: send it as 'Authorization: Bearer ak_…'"


def text_now():
    from sqlalchemy import func, select

    return select(func.now())
