from __future__ import annotations

import uuid
from typing import Any

from workers.job import producer
from workers.job.schemas import JobCreate


def submit(model: str = "local/video", **inputs: Any) -> uuid.UUID:
    params = {"prompt": "a red fox in snow", "duration": 1, **inputs}
    if model == "local/image":
        params.pop("duration", None)
    return producer.submit(JobCreate(model=model, input=params)).id
