"""The Celery app, configured from settings for long generation jobs.

Why each setting:
- acks late + reject on worker lost + prefetch 1: a message leaves the broker only when its
  job is done; a worker killed mid-job hands it back, and no worker hoards jobs it can't start.
- visibility timeout above the task time limit: Redis re-delivers any unacknowledged message
  older than it, so a job still running must never reach it.
- JSON only, ids only (see `IdOnlyCelery`): Flower shows task arguments to whoever opens it.
- worker task events on: Flower sees every task's progress without extra flags.
"""

from __future__ import annotations

from typing import Any

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_init, worker_shutting_down

from workers import shutdown
from workers.db.base import utcnow
from workers.db.engine import reset_engine
from workers.provider.registry import reset_adapters
from workers.queues import ROUTES, Queue
from workers.schedule import beat_schedule
from workers.settings import Settings, get_settings


def check_ids_only(name: str, args: Any, kwargs: Any) -> None:
    """Refuse any task argument that is not an id-like primitive (str or int)."""
    for value in [*(args or ()), *(kwargs or {}).values()]:
        if not isinstance(value, str | int) or isinstance(value, bool):
            raise TypeError(f"{name} takes ids only (str or int), got {type(value).__name__}")


class IdOnlyCelery(Celery):  # type: ignore[misc]
    """Checks every message's arguments at send time. `send_task` is the one path every
    send takes (`Task.apply_async`, `delay` and `retry` all end here)."""

    def send_task(self, name: str, args: Any = None, kwargs: Any = None, **options: Any) -> Any:
        check_ids_only(name, args, kwargs)
        return super().send_task(name, args, kwargs, **options)


def broker_options(settings: Settings) -> dict[str, Any]:
    if settings.broker_url.startswith("filesystem://"):
        folder = settings.broker_dir
        for sub in ("queue", "processed", "control"):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        return {
            "data_folder_in": str(folder / "queue"),
            "data_folder_out": str(folder / "queue"),
            "processed_folder": str(folder / "processed"),
            "control_folder": str(folder / "control"),
            "store_processed": False,
            "polling_interval": settings.broker_polling_interval_s,
        }
    options: dict[str, Any] = {"visibility_timeout": settings.broker_visibility_timeout_s}
    if settings.broker_url.startswith(("redis://", "rediss://")):
        # Ten priority levels; kombu's Redis transport serves lower numbers first.
        options |= {"queue_order_strategy": "priority", "priority_steps": list(range(10))}
        if settings.broker_key_prefix:
            options["global_keyprefix"] = settings.broker_key_prefix
    else:
        options["polling_interval"] = settings.broker_polling_interval_s
    return options


def broker_url(settings: Settings) -> str:
    """The broker URL Celery gets: the embedded filesystem broker sends atomically."""
    if settings.broker_url.startswith("filesystem://"):
        from workers import broker_filesystem

        return broker_filesystem.register()
    return settings.broker_url


def configure(app: Celery, settings: Settings) -> None:
    app.conf.update(
        broker_url=broker_url(settings),
        broker_transport_options=broker_options(settings),
        broker_connection_retry_on_startup=True,
        task_serializer="json",
        result_serializer="json",
        accept_content=["json"],
        task_ignore_result=True,  # the job row is the result
        task_acks_late=True,
        task_reject_on_worker_lost=True,
        worker_prefetch_multiplier=1,
        task_time_limit=settings.task_time_limit_s,
        task_soft_time_limit=settings.task_time_limit_s - 30,
        task_default_queue=Queue.JOBS,
        task_routes=ROUTES,
        # Workers report received/started/succeeded/failed to Flower. The producer's own
        # "sent" event doubles the cost of an enqueue (bench case 1), so it is opt-in.
        task_send_sent_event=settings.task_sent_events,
        worker_send_task_events=True,
        # The API sends from up to 40 request threads; a pool smaller than that makes them
        # queue for a broker connection.
        broker_pool_limit=64,
        worker_concurrency=settings.worker_concurrency,
        beat_schedule=beat_schedule(
            sweep_interval_s=settings.sweep_interval_s,
            prewarm_cron=settings.prewarm_cron,
            now=utcnow(),
            webhook_sweep_interval_s=settings.webhook_sweep_interval_s,
        ),
        beat_schedule_filename=str(settings.var_dir / "celerybeat-schedule"),
    )


app = IdOnlyCelery(
    "abstrakt_queue",
    include=["workers.job.tasks", "workers.prewarm.tasks", "workers.webhook.tasks"],
)
configure(app, get_settings())


@worker_process_init.connect
def _fresh_connections_after_fork(**_: Any) -> None:
    reset_engine()
    reset_adapters()
    # A pool process told to stop (SIGTERM to the worker's process group) hands its job
    # back instead of dying with it (`workers.shutdown`).
    shutdown.in_pool_process()


@task_prerun.connect
def _task_started(**_: Any) -> None:
    shutdown.task_started()


@task_postrun.connect
def _task_ended(**_: Any) -> None:
    shutdown.task_ended()


@worker_shutting_down.connect
def _hand_back_on_shutdown(**_: Any) -> None:
    # The solo and threads pools run tasks in this process: the same stop request.
    shutdown.requested.set()
