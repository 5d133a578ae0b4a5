"""The FastAPI application factory."""

from __future__ import annotations

import logging

from fastapi import Depends, FastAPI

from api import errors, heap, responses
from api.auth import RateLimitHeaders, current_caller, warn_if_disabled
from api.body_limit import BodySizeLimit
from api.live import lifespan
from api.media import MediaFiles
from api.routes import (
    batches,
    callbacks,
    dashboard,
    files,
    health,
    job_events,
    job_webhooks,
    jobs,
    metrics,
    models,
    openai_images,
    openai_videos,
    playground,
    prewarm,
    providers,
    stats,
    stream,
    usage,
    webhooks,
)
from api.timeout import RequestTimeout
from workers.catalog.pricing import check_overrides
from workers.catalog.registry import all_models
from workers.metrics.totals import CumulativeTotals
from workers.settings import get_settings

log = logging.getLogger(__name__)


def create_app(*, freeze_start_up_heap: bool = False) -> FastAPI:
    settings = get_settings()
    check_overrides(all_models())  # a misspelt model id or an unusable price stops the start
    app = FastAPI(
        title="abstrakt-queue",
        description="Asynchronous AI media generation: submit a job, poll it, fetch the file.",
        version="0.1.0",
        lifespan=heap.freezing_start_up(lifespan) if freeze_start_up_heap else lifespan,
    )
    errors.install(app)
    warn_if_disabled()
    app.add_middleware(
        BodySizeLimit,
        max_bytes=settings.max_body_bytes,
        larger={"/v1/files": (settings.max_upload_bytes, "MAX_UPLOAD_BYTES")},
    )
    app.add_middleware(RateLimitHeaders)
    # Every route but /healthz and the pages (/playground, /dashboard) needs a key; routes
    # that need its owner ask for it too (the dependency runs once per request either way).
    # Each group's error statuses are documented in the schema (api/responses.py).
    keyed = [Depends(current_caller)]
    for router in (jobs, batches, files, job_events, models, providers, prewarm, usage, stats):
        app.include_router(router.router, dependencies=keyed, responses=responses.KEYED)
    # OpenAI's shape of the same jobs (videos, images); errors in OpenAI's shape there only.
    for router in (openai_videos, openai_images):
        app.include_router(router.router, dependencies=keyed, responses=responses.OPENAI)
    for router in (job_webhooks, webhooks):
        app.include_router(router.router, dependencies=keyed, responses=responses.KEYED)
    app.include_router(health.router, responses=responses.OPEN)
    # Scrapers hold no key: open, or METRICS_TOKEN (api/routes/metrics.py).
    app.include_router(metrics.router, responses={**responses.OPEN, **responses.documented(401)})
    app.state.metric_totals = CumulativeTotals()
    # providers call these; the token in the path and their signature are the proof
    app.include_router(callbacks.router)
    app.include_router(stream.router)  # the key comes in a message or the upgrade's header
    # the page asks for the key its calls send
    app.include_router(playground.router, responses=responses.OPEN)
    app.include_router(dashboard.router, responses=responses.OPEN)
    # Outermost: it bounds everything inside, the key check included.
    app.add_middleware(
        RequestTimeout, timeout_s=settings.request_timeout_s, retry_after_s=settings.retry_after_s
    )
    try:
        settings.storage_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:  # the API still starts; /healthz reports storage down
        log.warning("api.storage_unavailable error=%s", exc.strerror or exc)
    # Local storage is served here; with object storage the URLs point elsewhere. Files need
    # no key (a page's <video> tag cannot send one): their paths hold unguessable job ids.
    app.mount("/media", MediaFiles(directory=settings.storage_dir, check_dir=False), name="media")
    return app


def create_server_app() -> FastAPI:
    """The app as `abstrakt-queue api` serves it, in a process of its own: `create_app()`
    with its start-up heap frozen once started (`api.heap`). Not for an app made inside
    another program (tests, an embedding): freezing would keep that program's objects."""
    return create_app(freeze_start_up_heap=True)
