"""Uploads: an image checked by its bytes, stored, owned, and taken as an `image_url`."""

from __future__ import annotations

import io

from fastapi.testclient import TestClient
from PIL import Image

from workers.db.engine import session_scope
from workers.key import service as keys
from workers.settings import get_settings


def png(width: int = 32, height: int = 24) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (width, height), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(client: TestClient, data: bytes, name: str = "start.png") -> dict[str, object]:
    response = client.post("/v1/files", files={"file": (name, data, "image/png")})
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_an_image_is_stored_and_served_at_its_url(client: TestClient) -> None:
    data = png()
    stored = upload(client, data)
    assert (stored["content_type"], stored["width"], stored["height"], stored["size"]) == (
        "image/png",
        32,
        24,
        len(data),
    )
    url = str(stored["url"])
    assert client.get(url.replace("http://testserver", "")).content == data
    assert client.get(f"/v1/files/{stored['id']}").json()["url"] == url


def test_what_is_not_an_image_is_refused_whatever_its_name(client: TestClient) -> None:
    response = client.post(
        "/v1/files", files={"file": ("x.png", b"MZ\x90\x00 not a png", "image/png")}
    )
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "file"]


def test_a_file_over_the_limit_is_413_naming_the_setting(client: TestClient) -> None:
    too_big = b"\0" * (get_settings().max_upload_bytes + 1)
    response = client.post("/v1/files", files={"file": ("big.png", too_big, "image/png")})
    assert response.status_code == 413
    assert "MAX_UPLOAD_BYTES" in response.json()["detail"]


def test_another_owners_file_is_404(client: TestClient) -> None:
    stored = upload(client, png())
    with session_scope() as session:
        _, token = keys.create(session, name="other", owner="other-team")
    theirs = client.get(f"/v1/files/{stored['id']}", headers={"Authorization": f"Bearer {token}"})
    assert theirs.status_code == 404


def test_an_uploaded_file_is_an_image_url_and_plain_http_elsewhere_is_not(
    client: TestClient,
) -> None:
    url = str(upload(client, png(1280, 720))["url"])
    job = {
        "model": "fal-ai/kling-video/v2.6/pro/image-to-video",
        "input": {"prompt": "the boat sails away", "image_url": url},
    }
    assert client.post("/v1/jobs", json=job).status_code == 202
    job["input"]["image_url"] = "http://example.com/start.png"  # type: ignore[index]
    refused = client.post("/v1/jobs", json=job)
    assert refused.status_code == 422
    assert refused.json()["detail"][0]["loc"] == ["body", "input", "image_url"]
