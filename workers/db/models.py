"""Imports every feature's models, so `Base.metadata` is complete (Alembic, tests)."""

from workers.cache.models import CacheEntry
from workers.db.base import Base
from workers.job.models import Job, JobEvent, JobPhase
from workers.job.provider_health import ProviderHealth
from workers.prewarm.models import PrewarmPrompt, PrewarmRun

__all__ = [
    "Base",
    "CacheEntry",
    "Job",
    "JobEvent",
    "JobPhase",
    "PrewarmPrompt",
    "PrewarmRun",
    "ProviderHealth",
]
