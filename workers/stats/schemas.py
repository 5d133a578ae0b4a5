"""The shapes `GET /v1/stats/latency` and `abstrakt-queue stats --json` return."""

from __future__ import annotations

import uuid
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


class ActivityBucket(BaseModel):
    start: datetime = Field(description="The bucket's start; it lasts `bucket_s`.")
    jobs: int = Field(description="Jobs that ended in the bucket.")
    succeeded: int
    failed: int
    canceled: int
    from_cache: int = Field(description="Succeeded without generating (cache hits, joined).")
    error_rate: float = Field(description="failed / jobs; 0 when none ended.")


class CacheRate(BaseModel):
    from_cache: int = Field(description="Succeeded from the cache or by joining another job.")
    generated: int = Field(description="Succeeded by generating.")
    hit_rate: float | None = Field(description="from_cache / succeeded; null when none.")


class InFlight(BaseModel):
    id: uuid.UUID
    model: str
    status: str
    phase: str = Field(description="The phase it is in now: after its last recorded one.")
    progress: int = Field(description="The progress bar's value at the start of that phase.")
    created_at: datetime
    phase_elapsed_s: float = Field(description="Seconds since its last phase ended.")


class Activity(BaseModel):
    owner: str
    window: str
    start: datetime = Field(serialization_alias="from", description="Inclusive.")
    end: datetime = Field(serialization_alias="to", description="Exclusive.")
    bucket_s: float
    series: list[ActivityBucket] = Field(description="Jobs ended per bucket, oldest first.")
    cache: CacheRate = Field(description="Over the whole window.")
    in_flight: list[InFlight] = Field(description="Queued and running now (at most 50).")
