"""The OpenAI-compatible surface in-process, through the official `openai` SDK: the same jobs
as `/v1/jobs` (producer, keys, cache, owners), OpenAI's shapes, and OpenAI's errors.

A job is completed here by running its task in this process (`generate.run`); the SDK's
round trip against real API and worker processes is `tests/e2e/test_openai_sdk.py`.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterator
from typing import Any

import openai
import pytest
import redis
from fastapi.testclient import TestClient

from api.app import create_app
from tests.conftest import queued_messages
from workers.db.engine import session_scope
from workers.job.tasks import generate
from workers.key import service
from workers.key.service import Limits
from workers.settings import PriceOverride, get_settings

# The SDK marks its Videos API deprecated (OpenAI retires Sora); the shape is what we serve.
pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")

VIDEO: dict[str, Any] = {"model": "local/video", "prompt": "a red fox in snow", "seconds": "4"}
SHORT = {**VIDEO, "seconds": "1"}  # a job to finish in this process


def new_key(name: str, **limits: Any) -> str:
    with session_scope() as session:
        _, token = service.create(session, name=name, limits=Limits(**limits))
    return token


@pytest.fixture
def sdk(client: TestClient, api_key: str) -> openai.OpenAI:
    """The official client, speaking to the in-process API with the test's key."""
    return sdk_for(client, api_key)


def sdk_for(client: TestClient, key: str) -> openai.OpenAI:
    return openai.OpenAI(
        base_url="http://testserver/v1", api_key=key, http_client=client, max_retries=0
    )


def done(video_id: str) -> None:
    generate.run(video_id)


class TestCreate:
    def test_a_video_is_a_job_with_seconds_and_size_in_our_input(
        self, sdk: openai.OpenAI, client: TestClient, redis_client: redis.Redis[bytes]
    ) -> None:
        # Any size the model takes, not only OpenAI's four (which the SDK's types list).
        video = sdk.videos.create(**{**VIDEO, "size": "854x480"})
        assert (video.object, video.model, video.status, video.progress) == (
            "video",
            "local/video",
            "queued",
            0,
        )
        assert (video.seconds, video.size, video.error, video.completed_at) == (
            "4",
            "854x480",
            None,
            None,
        )
        assert video.remixed_from_video_id is None
        assert queued_messages(redis_client) == 1
        job = client.get(f"/v1/jobs/{video.id}").json()
        assert job["input"]["duration"] == 4
        assert (job["input"]["width"], job["input"]["height"]) == (854, 480)
        assert job["cost"]["estimated_usd"] == 0

    def test_json_bodies_are_taken_too(self, client: TestClient) -> None:
        response = client.post("/v1/videos", json={**VIDEO, "size": "1280x720"})
        assert response.status_code == 200, response.text
        assert (response.json()["size"], response.json()["seconds"]) == ("1280x720", "4")

    def test_the_models_defaults_apply_when_seconds_and_size_are_left_out(
        self, sdk: openai.OpenAI
    ) -> None:
        video = sdk.videos.create(model="local/video", prompt="a lighthouse")
        assert (video.seconds, video.size) == ("3", "854x480")

    def test_an_idempotency_key_header_returns_the_same_video(self, sdk: openai.OpenAI) -> None:
        headers = {"Idempotency-Key": "order-7"}
        first = sdk.videos.create(**VIDEO, extra_headers=headers)
        again = sdk.videos.create(**VIDEO, extra_headers=headers)
        assert first.id == again.id

    def test_a_cache_hit_is_completed_at_once_and_marked_on_the_job(
        self, sdk: openai.OpenAI, client: TestClient
    ) -> None:
        first = sdk.videos.create(**SHORT)
        done(first.id)
        again = sdk.videos.create(**SHORT)
        assert again.id != first.id
        assert (again.status, again.progress) == ("completed", 100)
        job = client.get(f"/v1/jobs/{again.id}").json()
        assert job["cache_hit"] is True
        assert [p["name"] for p in job["phases"]] == ["cache_lookup"]


class TestErrors:
    @pytest.mark.parametrize(
        ("fields", "param", "fragment"),
        [
            ({**VIDEO, "model": "nope/model"}, "model", "known models:"),
            ({**VIDEO, "model": "local/image"}, "model", "local/image makes image"),
            ({**VIDEO, "seconds": "60"}, "seconds", "between 1 and 10 seconds"),
            ({**VIDEO, "seconds": "four"}, "seconds", "a number of seconds"),
            ({**VIDEO, "size": "big"}, "size", "WIDTHxHEIGHT"),
            ({**VIDEO, "size": "4000x4000"}, "size", "64–1920"),
            (
                {**VIDEO, "model": "fal-ai/ltx-video", "seconds": "8"},
                "seconds",
                "between 1 and 5 seconds for fal-ai/ltx-video",
            ),
            ({**VIDEO, "model": "sora-2"}, "model", "retired"),
        ],
    )
    def test_a_refused_request_is_the_sdks_bad_request_with_our_message(
        self,
        sdk: openai.OpenAI,
        redis_client: redis.Redis[bytes],
        fields: dict[str, Any],
        param: str,
        fragment: str,
    ) -> None:
        with pytest.raises(openai.BadRequestError) as raised:
            sdk.videos.create(**fields)
        assert raised.value.status_code == 400
        assert raised.value.param == param
        assert fragment in raised.value.message
        assert raised.value.type == "invalid_request_error"
        assert queued_messages(redis_client) == 0

    def test_an_uploaded_reference_file_is_refused_by_name(self, sdk: openai.OpenAI) -> None:
        with pytest.raises(openai.BadRequestError) as raised:
            sdk.videos.create(**VIDEO, input_reference=("frame.png", b"\x89PNG", "image/png"))
        assert raised.value.param == "input_reference"
        assert "uploaded files" in raised.value.message

    def test_a_reference_image_url_is_refused_while_no_model_takes_one(
        self, client: TestClient
    ) -> None:
        # The SDK sends only files; a JSON client may send OpenAI's {"image_url": …} form.
        reference = {"image_url": "https://example.com/a.png"}
        response = client.post("/v1/videos", json={**VIDEO, "input_reference": reference})
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["param"] == "input_reference"
        assert "reference image" in error["message"]

    def test_an_unknown_parameter_is_named(self, client: TestClient) -> None:
        response = client.post("/v1/videos", json={**VIDEO, "quality": "hd"})
        assert response.status_code == 400
        assert response.json()["error"]["param"] == "quality"

    def test_a_wrong_key_is_the_sdks_authentication_error(self, client: TestClient) -> None:
        with pytest.raises(openai.AuthenticationError) as raised:
            sdk_for(client, "ak_not_a_key").videos.create(**VIDEO)
        assert "a valid API key is required" in raised.value.message
        assert raised.value.code == "invalid_api_key"

    def test_another_owners_video_is_not_found_as_an_unknown_one(
        self, sdk: openai.OpenAI, client: TestClient
    ) -> None:
        theirs = sdk.videos.create(**VIDEO)
        bob = sdk_for(client, new_key("bob"))
        for video_id in (theirs.id, str(uuid.uuid4()), "video_123"):
            with pytest.raises(openai.NotFoundError) as raised:
                bob.videos.retrieve(video_id)
            assert f"no video with id '{video_id}'" in raised.value.message
            with pytest.raises(openai.NotFoundError):
                bob.videos.download_content(video_id)
            with pytest.raises(openai.NotFoundError):
                bob.videos.delete(video_id)
        assert sdk.videos.retrieve(theirs.id).status == "queued"

    def test_an_image_job_is_no_video(self, sdk: openai.OpenAI, client: TestClient) -> None:
        image = client.post("/v1/jobs", json={"model": "local/image", "input": {"prompt": "owl"}})
        with pytest.raises(openai.NotFoundError) as raised:
            sdk.videos.retrieve(image.json()["id"])
        assert "not a video" in raised.value.message

    def test_the_keys_rate_is_the_sdks_rate_limit_error(self, client: TestClient) -> None:
        limited = sdk_for(client, new_key("slow", rpm=1))
        limited.videos.list()
        with pytest.raises(openai.RateLimitError) as raised:
            limited.videos.list()
        assert "1 requests per minute" in raised.value.message
        assert raised.value.response.headers["Retry-After"]

    def test_an_exhausted_budget_is_insufficient_quota_and_not_retried(
        self, client: TestClient, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        prices = {"local/video": PriceOverride(unit="second", usd=0.25)}
        monkeypatch.setattr(get_settings(), "model_prices_usd", prices)
        thrifty = sdk_for(client, new_key("thrifty", budget_usd=1.0, budget_period="1d"))
        thrifty.videos.create(**VIDEO)  # $1.00: the whole budget
        with pytest.raises(openai.RateLimitError) as raised:
            thrifty.videos.create(**{**VIDEO, "prompt": "another"})
        assert raised.value.code == "insufficient_quota"
        assert raised.value.response.headers["x-should-retry"] == "false"

    def test_our_own_routes_keep_their_error_shape(self, client: TestClient) -> None:
        response = client.get(f"/v1/jobs/{uuid.uuid4()}")
        assert response.status_code == 404
        assert "detail" in response.json()
        refused = client.post("/v1/jobs", json={"model": "nope", "input": {"prompt": "x"}})
        assert refused.status_code == 422
        assert refused.json()["detail"][0]["loc"] == ["body", "model"]


class TestRetrieveListDelete:
    def test_a_finished_video_reads_completed_with_its_times(self, sdk: openai.OpenAI) -> None:
        video = sdk.videos.create(**SHORT)
        done(video.id)
        finished = sdk.videos.retrieve(video.id)
        assert (finished.status, finished.progress, finished.error) == ("completed", 100, None)
        assert finished.completed_at is not None
        assert finished.completed_at >= finished.created_at
        assert finished.prompt == VIDEO["prompt"]

    def test_an_unfinished_video_tells_the_sdk_when_to_poll_again(self, client: TestClient) -> None:
        created = client.post("/v1/videos", json=VIDEO).json()
        response = client.get(f"/v1/videos/{created['id']}")
        assert 250 <= int(response.headers["openai-poll-after-ms"]) <= 5000

    def test_the_list_is_the_callers_own_newest_first_with_a_cursor(
        self, sdk: openai.OpenAI, client: TestClient
    ) -> None:
        ids = [sdk.videos.create(**{**VIDEO, "prompt": f"fox {i}"}).id for i in range(5)]
        sdk_for(client, new_key("bob")).videos.create(**VIDEO)
        client.post("/v1/jobs", json={"model": "local/image", "input": {"prompt": "owl"}})
        page = sdk.videos.list(limit=2)
        assert [v.id for v in page.data] == ids[::-1][:2]
        assert page.has_more is True
        assert [v.id for v in sdk.videos.list(limit=2)] == ids[::-1]  # the SDK follows `after`
        assert [v.id for v in sdk.videos.list(order="asc")] == ids
        last = client.get("/v1/videos", params={"after": ids[1], "limit": 5}).json()
        assert ([v["id"] for v in last["data"]], last["has_more"]) == ([ids[0]], False)

    def test_a_bad_list_parameter_is_a_bad_request(self, sdk: openai.OpenAI) -> None:
        with pytest.raises(openai.BadRequestError) as raised:
            sdk.videos.list(after=str(uuid.uuid4()))
        assert raised.value.param == "after"
        with pytest.raises(openai.BadRequestError) as raised:
            sdk.videos.list(limit=500)
        assert raised.value.param == "limit"

    def test_delete_cancels_an_unfinished_video_and_keeps_a_finished_one(
        self, sdk: openai.OpenAI, client: TestClient
    ) -> None:
        running = sdk.videos.create(**VIDEO)
        deleted = sdk.videos.delete(running.id)
        assert (deleted.id, deleted.object, deleted.deleted) == (
            running.id,
            "video.deleted",
            True,
        )
        assert client.get(f"/v1/jobs/{running.id}").json()["status"] == "canceled"
        canceled = sdk.videos.retrieve(running.id)
        assert canceled.status == "failed"
        assert canceled.error is not None
        assert canceled.error.code == "canceled"
        assert sdk.videos.delete(running.id).deleted is False
        finished = sdk.videos.create(**SHORT)
        done(finished.id)
        assert sdk.videos.delete(finished.id).deleted is False
        assert sdk.videos.retrieve(finished.id).status == "completed"


class TestContent:
    def test_the_mp4_and_no_thumbnail_without_a_poster(
        self, sdk: openai.OpenAI, client: TestClient
    ) -> None:
        video = sdk.videos.create(**{**SHORT, "size": "320x240"})
        done(video.id)
        content = sdk.videos.download_content(video.id)
        assert content.response.headers["content-type"] == "video/mp4"
        stored = client.get(f"/v1/jobs/{video.id}").json()["result"]["video"]
        assert (
            content.content == client.get(stored["url"].removeprefix("http://testserver")).content
        )
        with pytest.raises(openai.NotFoundError) as raised:
            sdk.videos.download_content(video.id, variant="thumbnail")
        assert "no thumbnail" in raised.value.message

    def test_not_finished_is_a_bad_request_naming_the_status(self, sdk: openai.OpenAI) -> None:
        video = sdk.videos.create(**VIDEO)
        with pytest.raises(openai.BadRequestError) as raised:
            sdk.videos.download_content(video.id)
        assert "is queued" in raised.value.message
        assert raised.value.code == "video_not_ready"


class TestImages:
    def test_a_cache_hit_answers_urls_and_base64_of_the_same_png(
        self, sdk: openai.OpenAI, client: TestClient
    ) -> None:
        body = {"model": "local/image", "input": {"prompt": "a lighthouse at dusk"}}
        first = client.post("/v1/jobs", json=body).json()
        done(first["id"])
        by_url = sdk.images.generate(model="local/image", prompt="a lighthouse at dusk")
        assert by_url.data is not None
        [image] = by_url.data
        assert image.url is not None
        png = client.get(image.url.removeprefix("http://testserver")).content
        assert png.startswith(b"\x89PNG")
        by_b64 = sdk.images.generate(
            model="local/image", prompt="a lighthouse at dusk", response_format="b64_json"
        )
        assert by_b64.data is not None
        assert by_b64.data[0].b64_json is not None
        assert base64.b64decode(by_b64.data[0].b64_json) == png

    @pytest.mark.parametrize(
        ("fields", "param", "fragment"),
        [
            ({"model": "local/video"}, "model", "POST /v1/videos makes videos"),
            ({"model": "local/image", "size": "10x10"}, "size", "64–2048"),
            ({"model": "local/image", "n": 5}, "n", "must be an integer from 1 to 4, got 5"),
            ({"model": "local/image", "response_format": "png"}, "response_format", "url"),
            ({"model": "local/image", "quality": "hd"}, "quality", "unknown parameter"),
            ({}, "model", "local/image"),
        ],
    )
    def test_a_refused_request_is_a_bad_request(
        self, sdk: openai.OpenAI, fields: dict[str, Any], param: str, fragment: str
    ) -> None:
        with pytest.raises(openai.BadRequestError) as raised:
            sdk.images.generate(prompt="an owl", **fields)
        assert raised.value.param == param
        assert fragment in raised.value.message


@pytest.mark.committed  # the wait follows the job through the API's live hub, in a thread
class TestImagesWait:
    @pytest.fixture
    def committed_sdk(self, api_key: str) -> Iterator[openai.OpenAI]:
        with TestClient(create_app()) as test_client:
            yield sdk_for(test_client, api_key)

    def test_past_the_bound_the_error_names_the_job_to_poll(
        self, committed_sdk: openai.OpenAI, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        monkeypatch.setattr(get_settings(), "openai_images_wait_s", 0.5)
        with pytest.raises(openai.InternalServerError) as raised:
            committed_sdk.images.generate(model="local/image", prompt="a slow owl")
        job_id = raised.value.response.headers["X-Job-Id"]
        assert raised.value.status_code == 504
        assert f"GET /v1/jobs/{job_id}" in raised.value.message
        assert raised.value.response.headers["x-should-retry"] == "false"
