"""The pre-generation list's public shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from workers.db.storable import StorableJson, StorableStr


class PrewarmCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    model: StorableStr = Field(min_length=1, max_length=200, description="A catalog model id.")
    input: StorableJson = Field(description="The model's input, as for POST /v1/jobs.")


class PrewarmFile(BaseModel):
    """A YAML file of prompts: `prompts: [{model, input}, …]` (or the bare list)."""

    model_config = ConfigDict(extra="forbid")

    prompts: list[PrewarmCreate]


class CacheState(BaseModel):
    state: str = Field(description="fresh, generating, expired or missing")
    expires_at: datetime | None


class PrewarmRead(BaseModel):
    id: int
    model: str
    input: dict[str, Any] = Field(description="Canonical: defaults filled in.")
    origin: str = Field(description="manual, or auto (among the most requested prompts)")
    created_at: datetime
    cache: CacheState


class RunReport(BaseModel):
    slot: datetime | None = Field(description="The scheduled slot; None for a manual run.")
    started: int = Field(description="Pre-generation jobs started now.")
    waiting: int = Field(description="Due prompts left for when running jobs finish.")
    auto_added: int = 0
