"""Preview first: a video job's preview is an image job of its own, and its result (or its
failure) reaches the video job's log without ever failing the video."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select

from tests.job.test_generate_task import ExplodingProvider, use_provider
from workers.catalog.preview import PROMPT_SUFFIX, preview_input, preview_model
from workers.catalog.registry import get_model
from workers.db.engine import session_scope
from workers.errors import InvalidInput
from workers.job import producer, repository
from workers.job.models import Job, JobEvent
from workers.job.schemas import JobCreate
from workers.job.tasks import generate


def video_with_preview(**inputs: object) -> uuid.UUID:
    body = JobCreate(
        model="local/video",
        input={"prompt": "a lighthouse at dusk", "duration": 1, **inputs},
        preview=True,
        cache=False,
    )
    return producer.submit(body).id


def preview_of(parent_id: uuid.UUID) -> Job:
    with session_scope() as session:
        job = session.scalars(select(Job).where(Job.parent_job_id == parent_id)).one()
        session.expunge(job)
        return job


def log_of(job_id: uuid.UUID) -> list[tuple[str, dict[str, object]]]:
    with session_scope() as session:
        rows = session.execute(
            select(JobEvent.type, JobEvent.payload)
            .where(JobEvent.job_id == job_id)
            .order_by(JobEvent.seq)
        )
        return [(type_, payload) for type_, payload in rows]


def status_of(job_id: uuid.UUID) -> str:
    with session_scope() as session:
        job = repository.get(session, job_id)
        assert job is not None
        return job.status


class TestPreviewJob:
    def test_a_video_with_preview_gets_a_fast_image_job_at_its_aspect_ratio(self) -> None:
        parent = video_with_preview(resolution="720p", aspect_ratio="9:16")
        child = preview_of(parent)
        assert child.model == "local/image"
        assert child.input["prompt"] == f"a lighthouse at dusk{PROMPT_SUFFIX}"
        assert child.input["width"] * 16 == child.input["height"] * 9  # the video's 9:16
        assert child.status == "queued"
        assert child.priority == 6  # ahead of its video (5) on a busy queue

    def test_its_image_reaches_the_video_jobs_log_as_a_preview(self) -> None:
        parent = video_with_preview()
        child = preview_of(parent)
        generate.run(str(child.id))
        assert status_of(child.id) == "succeeded"
        previews = [payload for type_, payload in log_of(parent) if type_ == "preview"]
        assert len(previews) == 1
        assert previews[0]["job_id"] == str(child.id)
        assert str(previews[0]["frame_url"]).endswith(f"/media/jobs/{child.id}/output.png")
        assert status_of(parent) == "queued"  # the video itself has not moved

    def test_a_failed_preview_never_fails_the_video(self, monkeypatch: pytest.MonkeyPatch) -> None:
        parent = video_with_preview()
        child = preview_of(parent)
        use_provider(monkeypatch, ExplodingProvider)
        generate.run(str(child.id))
        monkeypatch.undo()
        assert status_of(child.id) == "failed"
        assert [t for t, _ in log_of(parent)] == ["queued", "preview_failed"]
        generate.run(str(parent))
        assert status_of(parent) == "succeeded"

    def test_a_preview_that_ends_after_its_video_adds_nothing(self) -> None:
        parent = video_with_preview()
        child = preview_of(parent)
        generate.run(str(parent))
        before = log_of(parent)
        generate.run(str(child.id))
        assert status_of(child.id) == "succeeded"
        assert log_of(parent) == before

    def test_canceling_the_video_cancels_its_preview(self) -> None:
        parent = video_with_preview()
        child = preview_of(parent)
        producer.cancel(parent)
        assert (status_of(parent), status_of(child.id)) == ("canceled", "canceled")

    def test_the_local_video_sends_its_first_frame_while_it_renders(self) -> None:
        parent = video_with_preview()
        generate.run(str(parent))
        types = [t for t, _ in log_of(parent)]
        # the first frame is logged during generation: before that phase's end is recorded
        first_frame = types.index("preview")
        phases_after = [p for t, p in log_of(parent)[first_frame:] if t == "phase"]
        assert phases_after[0]["name"] == "generation"

    def test_preview_on_an_image_model_is_refused_and_writes_nothing(self) -> None:
        body = JobCreate(model="local/image", input={"prompt": "a cat"}, preview=True)
        with pytest.raises(InvalidInput, match="preview"):
            producer.submit(body)
        with session_scope() as session:
            assert session.scalar(select(Job.id).limit(1)) is None


def preview_id(video: str) -> str | None:
    found = preview_model(get_model(video))
    return found.id if found is not None else None


class TestPreviewModel:
    def test_the_fastest_image_model_of_the_videos_provider(self) -> None:
        assert preview_id("fal-ai/ltx-video") == "fal-ai/flux/schnell"
        assert preview_id("minimax/video-01") == "black-forest-labs/flux-schnell"

    def test_a_provider_without_image_models_falls_back_to_the_local_one(self) -> None:
        assert preview_id("veo-3.1") == "local/image"

    def test_an_image_model_without_sizes_gets_the_videos_aspect_ratio(self) -> None:
        flux = get_model("black-forest-labs/flux-schnell")
        video = {"prompt": "a fox", "width": 720, "height": 1280, "aspect_ratio": "9:16"}
        assert preview_input(flux, video) == {
            "prompt": f"a fox{PROMPT_SUFFIX}",
            "aspect_ratio": "9:16",
        }
