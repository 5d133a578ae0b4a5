"""The shapes `GET /v1/stats/latency` and `abstrakt-queue stats --json` return."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field


class Percentiles(BaseModel):
    count: int = Field(description="Values the percentiles are computed over.")
    p50_ms: float
    p90_ms: float
    p99_ms: float


class LatencyGroup(BaseModel):
    group: dict[str, str] = Field(
        description="The group's value of each `group_by` dimension; duration in seconds, "
        "resolution as a preset (`720p`) or a size (`1000x600`), `none` where a job has none."
    )
    jobs: int = Field(description="Jobs that ended in the window: succeeded, failed or canceled.")
    succeeded: int
    failed: int
    canceled: int
    from_cache: int = Field(
        description="Succeeded without generating (cache hits, joined jobs): counted, not timed."
    )
    error_rate: float = Field(description="failed / jobs.")
    end_to_end: Percentiles | None = Field(
        description="Created → finished, over the jobs that succeeded by generating; null when "
        "there are none."
    )
    phases: dict[str, Percentiles] = Field(
        description="Each phase's time per job (summed over its attempts), over the same jobs."
    )


class LatencyStats(BaseModel):
    owner: str
    window: str
    start: datetime = Field(serialization_alias="from", description="Inclusive.")
    end: datetime = Field(serialization_alias="to", description="Exclusive.")
    group_by: list[str]
    groups: list[LatencyGroup]
