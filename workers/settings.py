"""One typed settings object, read from the environment (and `.env`).

Defaults are the embedded ones: a SQLite file, kombu's filesystem broker and local file
storage, all under `./var/`, so a new user runs the system with no server installed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, model_validator
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
