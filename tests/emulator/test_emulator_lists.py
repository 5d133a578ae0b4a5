"""The emulator's list endpoints — Replicate `GET /v1/predictions`, OpenAI `GET /v1/videos` —
over raw HTTP and through the providers' official clients, unchanged."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest

from emulator import replicate as replicate_emulator
from emulator.testing import EmulatorServer

# The clients deprecate the Sora calls we exercise (API sunset).
pytestmark = pytest.mark.filterwarnings("ignore::DeprecationWarning")


def make_predictions(emulator: EmulatorServer, key: str, count: int) -> list[str]:
    """`count` predictions, ids oldest first."""
    headers = {"Authorization": f"Bearer {key}"}
    url = f"{emulator.url}/v1/models/acme/video/predictions"
    with httpx.Client(headers=headers) as client:
        return [
            client.post(url, json={"input": {"prompt": f"p{i}"}}).json()["id"] for i in range(count)
        ]


def make_videos(emulator: EmulatorServer, key: str, count: int) -> list[str]:
    """`count` videos, ids oldest first."""
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(headers=headers) as client:
        return [
            client.post(f"{emulator.url}/v1/videos", files={"prompt": (None, f"p{i}")}).json()["id"]
            for i in range(count)
        ]


class TestReplicateList:
    def test_requires_a_token(self, emulator: EmulatorServer) -> None:
        for headers in ({}, {"Authorization": "Bearer wrong"}):
            response = httpx.get(f"{emulator.url}/v1/predictions", headers=headers)
            assert response.status_code == 401
            assert response.json()["status"] == 401

    def test_newest_first_with_real_fields(self, emulator: EmulatorServer, api_key: str) -> None:
        ids = make_predictions(emulator, api_key, 3)
        response = httpx.get(
            f"{emulator.url}/v1/predictions", headers={"Authorization": f"Bearer {api_key}"}
        )
        assert response.status_code == 200
        body = response.json()
        assert (body["next"], body["previous"]) == (None, None)
        assert [p["id"] for p in body["results"]] == ids[::-1]
        first = body["results"][-1]
        assert first["model"] == "acme/video"
        assert first["input"] == {"prompt": "p0"}
        assert first["urls"]["get"] == f"{emulator.url}/v1/predictions/{ids[0]}"
        assert datetime.fromisoformat(first["created_at"]).tzinfo is not None

    def test_cursor_pages_both_ways(self, emulator: EmulatorServer, api_key: str) -> None:
        size = replicate_emulator.PAGE_SIZE
        ids = make_predictions(emulator, api_key, size + 3)
        headers = {"Authorization": f"Bearer {api_key}"}
        with httpx.Client(headers=headers) as client:
            first = client.get(f"{emulator.url}/v1/predictions").json()
            assert len(first["results"]) == size
            assert first["next"].startswith(f"{emulator.url}/v1/predictions?cursor=")
            second = client.get(first["next"]).json()
            assert [p["id"] for p in second["results"]] == ids[2::-1]
            assert second["next"] is None
            back = client.get(second["previous"]).json()
            # Ids, not whole objects: a prediction's status moves on between the two reads.
            assert [p["id"] for p in back["results"]] == [p["id"] for p in first["results"]]
            bad = client.get(f"{emulator.url}/v1/predictions", params={"cursor": "nonsense"})
            assert bad.status_code == 400

    def test_created_filters(self, emulator: EmulatorServer, api_key: str) -> None:
        make_predictions(emulator, api_key, 2)
        headers = {"Authorization": f"Bearer {api_key}"}
        url = f"{emulator.url}/v1/predictions"
        future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
        past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        with httpx.Client(headers=headers) as client:
            assert client.get(url, params={"created_after": future}).json()["results"] == []
            assert len(client.get(url, params={"created_after": past}).json()["results"]) == 2
            assert client.get(url, params={"created_before": past}).json()["results"] == []
            assert client.get(url, params={"created_after": "soon"}).status_code == 400

    def test_official_client_lists_and_paginates(
        self, emulator: EmulatorServer, api_key: str
    ) -> None:
        import replicate
        from replicate.client import Client

        ids = make_predictions(emulator, api_key, replicate_emulator.PAGE_SIZE + 1)
        client = Client(api_token=api_key, base_url=emulator.url)
        page = client.predictions.list()
        assert page.results[0].id == ids[-1]
        assert page.results[0].status == "starting"
        assert page.next is not None
        pages = list(replicate.paginate(client.predictions.list))
        assert [p.id for page in pages for p in page] == ids[::-1]
        client._client.close()  # replicate.Client has no public close()


class TestOpenAIList:
    def test_requires_a_key(self, emulator: EmulatorServer) -> None:
        missing = httpx.get(f"{emulator.url}/v1/videos")
        assert missing.status_code == 401
        wrong = httpx.get(f"{emulator.url}/v1/videos", headers={"Authorization": "Bearer no"})
        assert wrong.status_code == 401
        assert wrong.json()["error"]["code"] == "invalid_api_key"

    def test_shape_limit_after_order(self, emulator: EmulatorServer, api_key: str) -> None:
        ids = make_videos(emulator, api_key, 3)
        headers = {"Authorization": f"Bearer {api_key}"}
        url = f"{emulator.url}/v1/videos"
        with httpx.Client(headers=headers) as client:
            body = client.get(url, params={"limit": 2}).json()
            assert body["object"] == "list"
            assert [v["id"] for v in body["data"]] == [ids[2], ids[1]]
            assert (body["first_id"], body["last_id"], body["has_more"]) == (ids[2], ids[1], True)
            assert body["data"][0]["prompt"] == "p2"
            assert isinstance(body["data"][0]["created_at"], int)
            rest = client.get(url, params={"limit": 2, "after": body["last_id"]}).json()
            assert ([v["id"] for v in rest["data"]], rest["has_more"]) == ([ids[0]], False)
            asc = client.get(url, params={"order": "asc"}).json()
            assert [v["id"] for v in asc["data"]] == ids
            assert client.get(url, params={"limit": 101}).status_code == 400
            assert client.get(url, params={"order": "up"}).status_code == 400

    def test_official_client_lists_and_paginates(
        self, emulator: EmulatorServer, api_key: str
    ) -> None:
        from openai import OpenAI

        ids = make_videos(emulator, api_key, 5)
        with OpenAI(api_key=api_key, base_url=f"{emulator.url}/v1", max_retries=0) as client:
            page = client.videos.list(limit=2)
            assert [v.id for v in page.data] == [ids[4], ids[3]]
            assert page.has_next_page()
            assert [v.id for v in client.videos.list(limit=2)] == ids[::-1]  # auto-paging
            assert [v.id for v in client.videos.list(order="asc", limit=3)] == ids
