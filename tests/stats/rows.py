"""Finished jobs written straight into the tables, with phase times the test chooses, so
statistics can be checked against figures computed here from the same rows."""

from __future__ import annotations

import random
import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from workers.job.models import Job, JobPhase

FIVE = ("queue_wait", "model_loading", "generation", "encoding", "upload")
P480 = {"resolution": "480p", "width": 854, "height": 480}
P720 = {"resolution": "720p", "width": 1280, "height": 720}
SHAPES: tuple[tuple[str, str, str, dict[str, Any]], ...] = (
    # model, provider, kind, canonical input (without the prompt)
    ("local/video", "local", "video", {"duration": 3.0, **P480}),
    ("local/video", "local", "video", {"duration": 5.0, **P720}),
    ("local/image", "local", "image", {"resolution": None, "width": 64, "height": 64}),
    ("fal-ai/ltx-video", "fal", "video", {"duration": 5.0, **P720}),
)


def add_jobs(
    session: Session, *, owner: str, count: int, now: datetime, seed: int, age_s: float = 3600
) -> None:
    """`count` ended jobs of `owner`, finished within the last `age_s` seconds: most succeed
    with five phases (some retried once), some fail, some are cache hits or joined."""
    rng = random.Random(seed)
    for _ in range(count):
        model, provider, kind, shape = rng.choice(SHAPES)
        finished = now - timedelta(seconds=rng.uniform(1, age_s))
        roll = rng.random()
        status = "failed" if roll < 0.1 else "canceled" if roll < 0.15 else "succeeded"
        served = status == "succeeded" and roll > 0.9
        job = Job(
            id=uuid.uuid4(),
            owner=owner,
            model=model,
            kind=kind,
            provider=provider,
            input={"prompt": "p", **{k: v for k, v in shape.items() if v is not None}},
            status=status,
            request_hash="0" * 64,
            error_code="provider_failed" if status == "failed" else None,
            cache_hit=served and roll > 0.95,
            joined_job_id=uuid.uuid4() if served and roll <= 0.95 else None,
        )
        attempts = 2 if rng.random() < 0.1 else 1
        spent = 0.0
        phases: list[JobPhase] = []
        for attempt in range(1, attempts + 1) if not served else ():
            for name in FIVE:
                ms = rng.lognormvariate(4, 1.2)
                phases.append(
                    JobPhase(
                        job_id=job.id,
                        attempt=attempt,
                        name=name,
                        started_at=finished,
                        duration_ms=ms,
                    )
                )
                spent += ms
        job.attempts = attempts
        job.created_at = finished - timedelta(milliseconds=spent + rng.uniform(0, 5))
        job.finished_at = finished
        session.add(job)
        session.flush()
        session.add_all(phases)
    session.flush()
