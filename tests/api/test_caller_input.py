"""Nothing a caller sends is a 5xx: text the database cannot store is a 422 naming the
field, ids out of range are 422, and an error body never echoes a huge input whole."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from tests.conftest import table_counts

NUL = "a\u0000b"


def post_raw(client: TestClient, path: str, text: str) -> tuple[int, object]:
    """Send `text` as the JSON body verbatim (a lone surrogate survives only as an escape)."""
    answer = client.post(path, content=text, headers={"Content-Type": "application/json"})
    return answer.status_code, answer.json()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"model": "local/video", "input": {"prompt": NUL}}, "input"),
        ({"model": "local/video", "input": {"prompt": "ok", NUL: 1}}, "input"),
        ({"model": "local/video", "input": {"prompt": ["ok", NUL]}}, "input"),
        ({"model": NUL, "input": {"prompt": "ok"}}, "model"),
        (
            {"model": "local/video", "input": {"prompt": "ok"}, "idempotency_key": NUL},
            "idempotency_key",
        ),
    ],
)
def test_nul_is_refused_naming_the_field(
    client: TestClient, body: dict[str, object], field: str
) -> None:
    before = table_counts()
    answer = client.post("/v1/jobs", json=body)
    assert answer.status_code == 422, answer.text
    error = answer.json()["detail"][0]
    assert error["loc"][:2] == ["body", field]
    assert "NUL" in error["msg"]
    assert table_counts() == before


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ('{"model": "local/video", "input": {"prompt": "x\\ud800y"}}', "input"),
        (
            '{"model": "local/video", "input": {"prompt": "ok"}, "idempotency_key": "\\udfff"}',
            "idempotency_key",
        ),
        ('{"model": "local/video", "input": {"\\ud800": "ok"}}', "input"),
    ],
)
def test_lone_surrogates_are_refused_naming_the_field(
    client: TestClient, text: str, field: str
) -> None:
    status, body = post_raw(client, "/v1/jobs", text)
    assert status == 422
    assert isinstance(body, dict)
    assert body["detail"][0]["loc"][:2] == ["body", field]
    assert "surrogate" in body["detail"][0]["msg"]


def test_prewarm_refuses_unstorable_text(client: TestClient) -> None:
    answer = client.post("/v1/prewarm", json={"model": "local/video", "input": {"prompt": NUL}})
    assert answer.status_code == 422
    assert answer.json()["detail"][0]["loc"][:2] == ["body", "input"]


def test_openai_routes_refuse_unstorable_text_in_their_shape(client: TestClient) -> None:
    answer = client.post("/v1/videos", json={"model": "local/video", "prompt": NUL})
    assert answer.status_code == 400, answer.text
    assert "NUL" in answer.json()["error"]["message"]
    answer = client.post(
        "/v1/images/generations",
        json={"model": "local/image", "prompt": "ok"},
        headers={"Idempotency-Key": "k" * 300},
    )
    assert answer.status_code == 400, answer.text
    assert answer.json()["error"]["param"] == "idempotency_key"


@pytest.mark.parametrize(
    "path",
    [
        "/v1/prewarm/9223372036854775808",
        "/v1/prewarm/-1",
        "/v1/prewarm/99999999999999999999999999",
    ],
)
def test_ids_out_of_range_are_422(client: TestClient, path: str) -> None:
    assert client.delete(path).status_code == 422


def test_an_id_in_range_that_does_not_exist_is_404(client: TestClient) -> None:
    assert client.delete("/v1/prewarm/9223372036854775807").status_code == 404


def test_event_positions_out_of_range_are_422(client: TestClient) -> None:
    job = "00000000-0000-0000-0000-000000000000"
    assert client.get(f"/v1/jobs/{job}/events?after=2147483648").status_code == 422
    answer = client.get(f"/v1/jobs/{job}/events", headers={"Last-Event-ID": "2147483648"})
    assert answer.status_code == 422


def test_a_huge_invalid_input_is_not_echoed_whole(client: TestClient) -> None:
    huge = "9" * 200_000
    answer = client.post(
        "/v1/jobs", json={"model": "local/video", "input": {"prompt": "x"}, "priority": huge}
    )
    assert answer.status_code == 413 or answer.status_code == 422
    assert len(answer.content) < 2_000
    many = {f"extra{i}": "y" * 1000 for i in range(500)}
    answer = client.post("/v1/jobs", json={"model": "local/video", "input": {}, **many})
    assert answer.status_code == 422
    assert len(answer.json()["detail"]) <= 20
    assert len(answer.content) < 30_000
