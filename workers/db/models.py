"""Imports every feature's models, so `Base.metadata` is complete (Alembic, tests)."""

from workers.batch.models import Batch, BatchItem
from workers.cache.models import CacheEntry
from workers.db.base import Base
from workers.job.models import Job, JobEvent, JobPhase
from workers.key.models import ApiKey, RateBucket
from workers.prewarm.models import PrewarmPrompt, PrewarmRun
from workers.provider_health.models import ProviderHealth
from workers.upload.models import Upload
from workers.webhook.models import WebhookAttempt, WebhookDelivery, WebhookSecret

__all__ = [
    "ApiKey",
    "Batch",
    "BatchItem",
    "Base",
    "CacheEntry",
    "Job",
    "JobEvent",
    "JobPhase",
    "PrewarmPrompt",
    "PrewarmRun",
    "ProviderHealth",
    "RateBucket",
    "Upload",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookSecret",
]
