"""Imports every feature's models, so `Base.metadata` is complete (Alembic, tests)."""

from workers.db.base import Base
from workers.job.models import Job, JobEvent, JobPhase
from workers.job.provider_health import ProviderHealth

__all__ = ["Base", "Job", "JobEvent", "JobPhase", "ProviderHealth"]
