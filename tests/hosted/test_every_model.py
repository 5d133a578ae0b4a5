"""Every live hosted model of the catalog, end to end: API → worker → emulator (which checks
each field it receives against the model's documented wire schema, `emulator/schemas.yaml`)
→ poller → the stored file, probed and described in the one result shape.

The jobs run together (one submission each, then one wait for all), so the whole catalog
costs about as long as its slowest model plus the worker's queue, not the sum of them.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from emulator.testing import EmulatorServer
from tests.hosted.conftest import TERMINAL
from workers.catalog.models import ModelSpec
from workers.catalog.registry import all_models
from workers.catalog.validation import normalize_input
from workers.catalog.wire import to_wire
from workers.db.engine import session_scope
from workers.job.models import DEFAULT_OWNER
from workers.key import service as keys
from workers.media.probe import probe
from workers.provider.registry import HOSTED
from workers.settings import get_settings

pytestmark = [pytest.mark.e2e, pytest.mark.usefixtures("system")]

IMAGE = "https://example.com/start.png"
VIDEO = "https://example.com/clip.mp4"
LIVE = [
    spec
    for spec in all_models()
    if spec.provider in HOSTED and (spec.retires_on is None or spec.retires_on > date.today())
]


def request_for(spec: ModelSpec) -> dict[str, Any]:
    """What a caller writes: a prompt, and the image or video the model starts from."""
    raw: dict[str, Any] = {}
    if spec.inputs.prompt is not None:
        raw["prompt"] = f"catalog check of {spec.id}"
    if spec.inputs.image_url is not None:
        raw["image_url"] = IMAGE
    if spec.inputs.video_url is not None:
        raw["video_url"] = VIDEO
    return raw


@dataclass(frozen=True)
class Run:
    job: dict[str, Any]
    sent: list[dict[str, Any] | None]  # the bodies the emulator received, as it checked them


@pytest.fixture(scope="module")
def runs(emulator: EmulatorServer) -> Iterator[dict[str, Run]]:
    """One job per model, all submitted at once, then waited for together."""
    emulator.ctx.reset()
    emulator.configure(queue_s=0.1, generation_s=0.2)
    with session_scope() as session:
        _, token = keys.create(session, name="every-model", owner=DEFAULT_OWNER)
    with TestClient(create_app(), headers={"Authorization": f"Bearer {token}"}) as client:
        ids = {}
        for spec in LIVE:
            response = client.post("/v1/jobs", json={"model": spec.id, "input": request_for(spec)})
            assert response.status_code == 202, (spec.id, response.text)
            ids[spec.id] = response.json()["id"]
        jobs: dict[str, dict[str, Any]] = {}
        deadline = time.monotonic() + 240
        while len(jobs) < len(ids) and time.monotonic() < deadline:
            for model, job_id in ids.items():
                if model not in jobs:
                    job = client.get(f"/v1/jobs/{job_id}").json()
                    if job["status"] in TERMINAL:
                        jobs[model] = job
            time.sleep(0.3)
    sent: dict[str, list[dict[str, Any] | None]] = {}
    for provider in {spec.provider for spec in LIVE}:
        for emulated in emulator.ctx.store.listing(provider):
            sent.setdefault(emulated.model, []).append(emulated.body)
    by_wire = {spec.id: sent.get(spec.provider_model, []) for spec in LIVE}
    yield {model: Run(job, by_wire[model]) for model, job in jobs.items()}
    emulator.ctx.reset()


def test_the_catalog_is_the_seeds() -> None:
    """Twenty-five models or more, and every task the seed names."""
    assert len(all_models()) >= 25
    assert {spec.task for spec in all_models()} == {
        "text-to-video",
        "image-to-video",
        "text-to-image",
        "image-to-image",
        "upscale",
        "remove-background",
        "interpolate",
    }


@pytest.mark.parametrize("spec", LIVE, ids=lambda spec: spec.id)
def test_model_runs_with_its_fields_checked(runs: dict[str, Run], spec: ModelSpec) -> None:
    run = runs.get(spec.id)
    assert run is not None, f"{spec.id} did not finish in time"
    assert run.job["status"] == "succeeded", run.job["error"]
    # One submission, checked field by field against the model's documented schema (a
    # model without one would be stored with no body), carrying exactly our mapping.
    [body] = run.sent
    assert body is not None, f"the emulator has no wire schema for {spec.provider_model}"
    expected = to_wire(spec, normalize_input(spec, request_for(spec)))
    if spec.provider == "openai":
        expected["model"] = spec.provider_model
    assert body == expected
    result = run.job["result"]
    storage = get_settings().storage_dir
    if spec.kind == "video":
        video = result["video"]
        info = probe(storage / video["url"].split("/media/", 1)[1])
        assert (video["width"], video["height"], video["duration"]) == (
            info.width,
            info.height,
            info.duration_s,
        )
        assert video["content_type"] == "video/mp4"
        assert video["poster_url"].endswith("poster.png")
    else:
        images = result["images"]
        assert images, "no image"
        for image in images:
            info = probe(storage / image["url"].split("/media/", 1)[1])
            assert (image["width"], image["height"], image["content_type"]) == (
                info.width,
                info.height,
                info.content_type,
            )
