"""One typed settings object, read from the environment (and `.env`).

Defaults are the embedded ones: a SQLite file, kombu's filesystem broker and local file
storage, all under `./var/`, so a new user runs the system with no server installed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    var_dir: Path = Field(default=Path("var"), description="Where embedded defaults keep files.")
    database_url: str = Field(default="", description="SQLAlchemy URL; empty = SQLite in var_dir.")
    broker_url: str = Field(default="", description="Celery broker; empty = filesystem in var_dir.")
    storage_dir: Path = Field(
        default=Path(""), description="Local media storage; empty = var_dir/media."
    )
    public_base_url: str = Field(
        default="http://localhost:8000", description="Base of the URLs handed out for media."
    )

    worker_concurrency: int = Field(default=2, ge=1)
    db_pool_size: int = Field(default=40, ge=1)
    # Producer-side "task-sent" events for Flower; off by default as they double enqueue cost.
    task_sent_events: bool = False
    # The longest a generate task may run before Celery kills it; the Redis visibility timeout
    # below must stay above it, or Redis re-delivers a task that is still running.
    task_time_limit_s: int = Field(default=1800, ge=10)
    broker_visibility_timeout_s: int = Field(default=7200, ge=60)
    # How often the filesystem broker and the SQLAlchemy transport poll for messages.
    broker_polling_interval_s: float = Field(default=0.05, gt=0)

    # A queued job whose task message was never sent (the broker was down at submit time)
    # is re-sent by the sweeper once it is this old.
    unsent_job_grace_s: float = Field(default=10.0, ge=0)
    sweep_interval_s: float = Field(default=30.0, gt=0)
    # How long a worker holds a running job without checking in (it checks in at every phase
    # boundary); must outlast the longest single phase.
    job_lease_s: float = Field(default=300.0, gt=0)
    # Transient provider errors are retried this many times with exponential backoff.
    max_retries: int = Field(default=5, ge=0)

    # Hosted providers: a provider whose key is unset is listed as unavailable and its models
    # are refused at submission. Base URLs default to the real hosts; point them at
    # `abstrakt-queue emulate` to try everything without keys.
    fal_key: SecretStr | None = None
    openai_api_key: SecretStr | None = None
    gemini_api_key: SecretStr | None = None
    replicate_api_token: SecretStr | None = None
    fal_base_url: str = "https://queue.fal.run"
    openai_base_url: str = "https://api.openai.com/v1"
    gemini_base_url: str = "https://generativelanguage.googleapis.com/v1beta"
    replicate_base_url: str = "https://api.replicate.com/v1"
    # Accept models past their retirement date, for gateways that still speak a retired
    # protocol (e.g. an OpenAI-compatible server at OPENAI_BASE_URL).
    allow_retired_models: bool = False
    provider_timeout_s: float = Field(default=30.0, gt=0)
    # At most this many jobs of one provider submitted and unfinished, across all workers;
    # more wait in our queue instead of piling onto the provider's.
    provider_concurrency: int = Field(default=200, ge=1)
    # Circuit breaker: this many transient failures in a row open a provider's circuit for
    # `circuit_open_s`; its jobs wait meanwhile, then one probe decides.
    circuit_failure_threshold: int = Field(default=5, ge=1)
    circuit_open_s: float = Field(default=30.0, gt=0)
    # Waiting at a provider holds no worker: the poller checks each job's status, often near
    # its expected finish and rarely before. These bound the interval between two checks.
    poll_min_interval_s: float = Field(default=0.5, gt=0)
    poll_max_interval_s: float = Field(default=10.0, gt=0)
    poller_concurrency: int = Field(default=32, ge=1)
    # A client-side give-up: a hosted job not finished after this long is canceled at the
    # provider and fails with `provider_timeout`.
    hosted_job_deadline_s: float = Field(default=1800.0, gt=0)

    # The built-in local provider's simulated latencies, so every phase is measurable.
    local_model_loading_s: float = Field(default=0.2, ge=0)
    local_generation_s: float = Field(default=0.3, ge=0)
    local_fps: int = Field(default=24, ge=1, le=60)

    @model_validator(mode="after")
    def _fill_embedded_defaults(self) -> Settings:
        if not self.database_url:
            self.database_url = f"sqlite:///{(self.var_dir / 'abstrakt.sqlite3').resolve()}"
        if not self.broker_url:
            self.broker_url = "filesystem://"
        if self.storage_dir == Path(""):
            self.storage_dir = self.var_dir / "media"
        if self.broker_visibility_timeout_s <= self.task_time_limit_s:
            raise ValueError(
                "BROKER_VISIBILITY_TIMEOUT_S must exceed TASK_TIME_LIMIT_S, or Redis re-delivers "
                "tasks that are still running"
            )
        return self

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def broker_dir(self) -> Path:
        return (self.var_dir / "broker").resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; tests clear the cache after changing the environment."""
    return Settings()
