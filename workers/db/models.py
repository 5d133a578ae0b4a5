"""Imports every feature's models, so `Base.metadata` is complete (Alembic, tests)."""

from workers.db.base import Base
from workers.job.models import Job, JobEvent, JobPhase

__all__ = ["Base", "Job", "JobEvent", "JobPhase"]
