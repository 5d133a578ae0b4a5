from __future__ import annotations

import uuid
from typing import Any

from workers.job import producer
from workers.job.schemas import JobCreate


def submit(model: str = "local/video", **inputs: Any) -> uuid.UUID:
    params: dict[str, Any] = {"prompt": "a red fox in snow", **inputs}
    if model == "local/video":
        params.setdefault("duration", 1)
    # Every call is a fresh generation: identical requests would otherwise join or hit the cache.
    return producer.submit(JobCreate(model=model, input=params, cache=False)).id
