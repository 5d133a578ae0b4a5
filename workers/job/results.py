"""The one shape of a job's result (see `workers.job.run.output`), for results written
before it: `{"image": {...}}` became `{"images": [{...}]}`. The database was migrated
(2026_12_01_1000); a cached copy in Redis from before that still reads through here."""

from __future__ import annotations

from typing import Any


def current(result: dict[str, Any]) -> dict[str, Any]:
    if "image" in result and "images" not in result:
        rest = {k: v for k, v in result.items() if k != "image"}
        return {**rest, "images": [result["image"]]}
    return result
