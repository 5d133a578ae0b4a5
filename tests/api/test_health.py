"""/healthz reports each dependency; /readyz only the database; both bounded."""

from __future__ import annotations

from fastapi.testclient import TestClient


def test_healthz_reports_each_dependency(client: TestClient) -> None:
    answer = client.get("/healthz")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["status"] == "ok"
    assert set(body["checks"]) == {"database", "broker", "storage"}
    assert all(check["ok"] for check in body["checks"].values())


def test_readyz_checks_the_database_only(client: TestClient) -> None:
    answer = client.get("/readyz")
    assert answer.status_code == 200
    assert set(answer.json()["checks"]) == {"database"}


def test_healthz_and_readyz_need_no_key(client: TestClient) -> None:
    for path in ("/healthz", "/readyz"):
        assert client.get(path, headers={"Authorization": ""}).status_code == 200
