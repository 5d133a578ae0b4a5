"""One typed settings object, read from the environment (and `.env`).

Defaults are the embedded ones: a SQLite file, kombu's filesystem broker and local file
storage, all under `./var/`, so a new user runs the system with no server installed.
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

Usd = Annotated[float, Field(ge=0)]


class PriceOverride(BaseModel):
    """One model's price in `MODEL_PRICES_USD`: the fields given replace the published
    ones (see `workers.catalog.pricing.Price`)."""

    model_config = ConfigDict(extra="forbid")

    unit: Literal["free", "second", "image", "megapixel", "character", "request"] | None = None
    usd: Usd | None = None
    per: int | None = Field(default=None, ge=1)
    by_resolution: dict[str, Usd] | None = None
    assumed_seconds: float | None = Field(default=None, gt=0)
    round_up: bool | None = None
    charges_failures: bool | None = None


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
    # Object storage instead of STORAGE_DIR: s3://bucket/prefix on any S3-compatible store
    # (credentials from the usual AWS_* variables). URLs are S3_PUBLIC_BASE_URL/key when
    # the bucket (or a CDN in front of it) is public, else presigned for S3_URL_TTL_S.
    storage_url: str = Field(default="", pattern=r"^(s3://[^/]+(/.*)?)?$")
    s3_endpoint_url: str = ""
    s3_region: str = "us-east-1"
    s3_public_base_url: str = ""
    s3_url_ttl_s: int = Field(default=7 * 86400, ge=60, le=7 * 86400)

    # Prepended to every Redis key the broker uses: several deployments (or test runs) can
    # then share one Redis database without seeing each other's queues.
    broker_key_prefix: str = ""
    worker_concurrency: int = Field(default=2, ge=1)
    # Threads of the hosted queue's worker under `up` (and the compose file's `hosted`):
    # each holds one hosted job's submission or finalize, mostly waiting on I/O.
    hosted_concurrency: int = Field(default=16, ge=1)
    db_pool_size: int = Field(default=40, ge=1)
    # Bounded waits on the database: a connection not made within `db_connect_timeout_s`,
    # a statement still running after `db_statement_timeout_s` (Postgres cancels it), a pool
    # slot not free within `db_pool_timeout_s` all fail at once instead of hanging; the API
    # answers 503 with Retry-After. (SQLite: its busy timeout, 10 s, bounds a lock wait.)
    db_connect_timeout_s: float = Field(default=5.0, gt=0, le=300)
    db_statement_timeout_s: float = Field(default=30.0, gt=0, le=3600)
    db_pool_timeout_s: float = Field(default=10.0, gt=0, le=300)
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
    # A queued job sent but not claimed this long after its send may have lost its message
    # (a Redis without persistence restarted, a message consumed without a claim): the
    # sweeper sends another. Each re-send waits as long again as the job has waited so far,
    # so a job queued for T seconds gets at most 1 + log2(1 + T / this) extra messages.
    lost_message_grace_s: float = Field(default=60.0, gt=0)
    sweep_interval_s: float = Field(default=30.0, gt=0)
    # How long a worker holds a running job without checking in. A heartbeat renews it every
    # third of that, so a dead worker's job is taken over within about this long (plus one
    # sweep interval) while a slow phase on a live worker keeps its job.
    job_lease_s: float = Field(default=30.0, gt=0)
    # Test-only fault injection: the name of a point in workers/job/run/crash.py at which a
    # worker kills itself. Never set it in production.
    crash_at: str | None = None
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
    # The floor is what a finished job may wait to be noticed; the ceiling, how late a job
    # that finishes far earlier than expected is noticed. About 8 checks for a typical job.
    poll_min_interval_s: float = Field(default=1.0, gt=0)
    poll_max_interval_s: float = Field(default=15.0, gt=0)
    poller_concurrency: int = Field(default=32, ge=1)
    # Providers' callbacks in (workers/job/callback/): with PROVIDER_CALLBACKS on,
    # PUBLIC_BASE_URL must be reachable by the providers; fal and Replicate jobs are then
    # submitted with a callback to /v1/callbacks/<provider>/<token>, the token an HMAC of the
    # job id under CALLBACK_SECRET. The poller remains the fallback and checks such a job at
    # most every `callback_poll_interval_s`. fal's public keys come from FAL_JWKS_URL
    # (cached `fal_jwks_cache_s`); Replicate's signing secret (`whsec_…`, from its
    # `GET /v1/webhooks/default/secret`) is REPLICATE_WEBHOOK_SECRET.
    provider_callbacks: bool = False
    callback_secret: SecretStr = SecretStr("")
    callback_poll_interval_s: float = Field(default=60.0, gt=0)
    callback_max_age_s: float = Field(default=300.0, gt=0)
    fal_jwks_url: str = "https://rest.alpha.fal.ai/.well-known/jwks.json"
    fal_jwks_cache_s: float = Field(default=86400.0, ge=0)
    replicate_webhook_secret: SecretStr = SecretStr("")
    # A client-side give-up: a hosted job not finished after this long is canceled at the
    # provider and fails with `provider_timeout`.
    hosted_job_deadline_s: float = Field(default=1800.0, gt=0)

    # Result cache: a request that was generated before is answered from `cache_entries`
    # (Postgres, the truth) through a Redis copy. TTLs in seconds; a per-model TTL of 0 turns
    # that model's cache off. JSON for the overrides: {"local/video": 3600}.
    cache_enabled: bool = True
    cache_ttl_s: float = Field(default=86400.0, ge=0)
    cache_model_ttl_s: dict[str, float] = Field(default_factory=dict)
    # A caller's own results are kept to that caller unless this shares them with everyone;
    # pre-generated results are always shared.
    cache_share_results: bool = False
    # The read-through Redis: empty = the broker when it is Redis, else none; "none" = off.
    cache_redis_url: str = ""

    # An operator's own catalog entries (YAML, the shape of workers/catalog/models.yaml):
    # new models, or fields replacing those of a shipped model with the same id. Read and
    # validated at start; a mistake stops the start naming the entry and the field.
    models_file: Path | None = None

    # Prices: each model's published price (its catalog entry's `price`) unless overridden
    # here, as JSON by model id: a number replaces its rate ({"veo-3.1": 0.35}), an object
    # the fields it names ({"veo-3.1": {"by_resolution": {"1080p": 0.5}}}).
    model_prices_usd: dict[str, Usd | PriceOverride] = Field(default_factory=dict)

    # Pre-generation: beat runs `prewarm.run` on this cron (UTC; day-of-month, month and
    # day-of-week must all match, as in Celery's crontab). At most `prewarm_max_in_flight`
    # pre-generation jobs are queued or running at once; the rest start as those finish,
    # checked every `prewarm_top_up_s`.
    prewarm_cron: str = "*/30 * * * *"
    prewarm_max_in_flight: int = Field(default=4, ge=1)
    prewarm_priority: int = Field(default=0, ge=0, le=9)
    prewarm_top_up_s: float = Field(default=15.0, gt=0, le=60)
    # Also pre-generate the `prewarm_auto_top` most requested prompts of the last
    # `prewarm_auto_days` days (asked at least `prewarm_auto_min_requests` times); 0 = off.
    prewarm_auto_top: int = Field(default=0, ge=0)
    prewarm_auto_days: int = Field(default=7, ge=1)
    prewarm_auto_min_requests: int = Field(default=3, ge=1)

    # API keys. Every endpoint but /healthz needs one unless auth is disabled (local
    # experiments only: every process logs a warning at start). A key's check is remembered
    # per process for `auth_cache_s`, which is how long a revocation may take to apply.
    auth_disabled: bool = False
    auth_cache_s: float = Field(default=5.0, ge=0, le=60)
    # The per-key request-rate buckets: empty = the broker when it is Redis, else the
    # database; "none" = the database.
    rate_limit_redis_url: str = ""
    # The largest request body the API reads; a larger one is refused with 413.
    max_body_bytes: int = Field(default=1_000_000, ge=1024)
    # A request that has not begun its answer after this long gets 503 with Retry-After,
    # whatever it waits on (a hung database connection included). Streams (SSE, WebSocket)
    # are bounded only until their first byte; the images wait adds OPENAI_IMAGES_WAIT_S.
    request_timeout_s: float = Field(default=30.0, gt=0, le=600)
    # What a 503 tells the caller to wait before trying again (Retry-After, in seconds).
    retry_after_s: int = Field(default=5, ge=1, le=600)
    # How long each /healthz check (database, broker, storage) and /readyz may take.
    health_check_timeout_s: float = Field(default=2.0, gt=0, le=60)

    # Live progress (WebSocket, SSE): fan-out through this Redis; empty = the broker when it
    # is Redis, "none" = no Redis (subscribers tail the event table, progress estimates go to
    # files under var_dir/live). Subscribers also re-read the log every `live_catchup_s`
    # (0 = 0.1 s without Redis, 1 s with it), which repairs a lost publish.
    live_redis_url: str = ""
    live_catchup_s: float = Field(default=0.0, ge=0, le=60)
    # How often a worker publishes a progress estimate while a phase runs.
    live_progress_interval_s: float = Field(default=0.25, gt=0, le=10)

    # `GET /metrics`: empty = open to anyone who reaches the API (it shows counts by model,
    # provider and key name, never a job, prompt or secret); set = a scraper must send
    # `Authorization: Bearer <token>`. Keys past the `metrics_top_keys` busiest are summed
    # as `other`, so the label set stays bounded however many keys exist.
    metrics_token: SecretStr | None = None
    metrics_top_keys: int = Field(default=20, ge=0, le=1000)

    # Webhooks out (workers/webhook/): each attempt may take `webhook_timeout_s` (connect,
    # send, answer); a failed one is retried after each delay of the schedule in turn, with
    # a little jitter (the Standard Webhooks example: 5 s, 5 min, 30 min, 2 h, 5 h, 10 h;
    # JSON, e.g. [5, 300, 1800]), then the delivery is given up. Delays over 60 s are
    # picked up from the rows by beat's `webhook.sweep`, run every `webhook_sweep_interval_s`.
    webhook_timeout_s: float = Field(default=15.0, gt=0, le=60)
    webhook_retry_schedule_s: list[Annotated[float, Field(ge=0)]] = Field(
        default_factory=lambda: [5.0, 300.0, 1800.0, 7200.0, 18000.0, 36000.0]
    )
    webhook_sweep_interval_s: float = Field(default=10.0, gt=0, le=60)
    # Hosts (exact names) or CIDR ranges, comma-separated, that webhook URLs may reach even
    # though they are loopback, private, link-local or metadata addresses.
    webhook_allowlist: str = ""
    # `progress` webhooks: at most one per job per this many seconds (phase changes only).
    webhook_progress_interval_s: float = Field(default=10.0, ge=0)
    # After a secret is rotated, deliveries carry the previous secret's signature too for
    # this long, so receivers can switch over without losing a webhook.
    webhook_secret_overlap_s: float = Field(default=86400.0, ge=0)

    # `POST /v1/images/generations` (the OpenAI-compatible surface) waits this long for
    # its job; past it, the answer names the job to poll at `GET /v1/jobs/{id}`.
    openai_images_wait_s: float = Field(default=60.0, gt=0, le=600)

    # Batches: at most this many of a batch's jobs are queued or running at once; the next
    # item starts as one ends, so a large batch never fills the queue ahead of other work.
    batch_window: int = Field(default=4, ge=1, le=1000)

    # The largest file `POST /v1/files` takes (an image to start from).
    max_upload_bytes: int = Field(default=20_000_000, ge=1024)

    # `"model": "auto"`: a model's recorded p90 for a kind of job counts once this many
    # such jobs ended in the last AUTO_WINDOW; before that, the catalog's typical latency.
    auto_min_jobs: int = Field(default=5, ge=1)
    auto_window: str = Field(default="7d", pattern=r"^\d+[smhd]$")

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
        if self.models_file == Path(""):  # MODELS_FILE= in .env: none
            self.models_file = None
        if self.provider_callbacks and not self.callback_secret.get_secret_value():
            raise ValueError("PROVIDER_CALLBACKS needs CALLBACK_SECRET (the callback tokens' key)")
        if self.broker_visibility_timeout_s <= self.task_time_limit_s:
            raise ValueError(
                "BROKER_VISIBILITY_TIMEOUT_S must exceed TASK_TIME_LIMIT_S, or Redis re-delivers "
                "tasks that are still running"
            )
        return self

    @model_validator(mode="after")
    def _cache_defaults(self) -> Settings:
        self.cache_redis_url = self._broker_redis_unless_set(self.cache_redis_url)
        self.rate_limit_redis_url = self._broker_redis_unless_set(self.rate_limit_redis_url)
        self.live_redis_url = self._broker_redis_unless_set(self.live_redis_url)
        if self.live_catchup_s == 0:
            self.live_catchup_s = 1.0 if self.live_redis_url else 0.1
        from workers.schedule import Cron  # a leaf module: no settings import

        Cron.parse(self.prewarm_cron)  # refuse a bad expression at start, not at first run
        return self

    def _broker_redis_unless_set(self, url: str) -> str:
        if url.lower() == "none":
            return ""
        if not url and self.broker_url.startswith(("redis://", "rediss://")):
            return self.broker_url
        return url

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def live_dir(self) -> Path:
        return (self.var_dir / "live").resolve()

    @property
    def broker_dir(self) -> Path:
        return (self.var_dir / "broker").resolve()


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; tests clear the cache after changing the environment."""
    return Settings()
