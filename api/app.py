"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from api import errors
from api.auth import RateLimitHeaders, current_caller, warn_if_disabled
from api.body_limit import BodySizeLimit
from api.live import lifespan
from api.routes import (
    batches,
    health,
    job_events,
    jobs,
    models,
    openai_images,
    openai_videos,
    playground,
    prewarm,
    providers,
    stream,
    usage,
)
from workers.catalog.pricing import check_overrides
from workers.catalog.registry import all_models
from workers.settings import get_settings


def create_app() -> FastAPI:
    settings = get_settings()
    check_overrides(all_models())  # a misspelt model id or an unusable price stops the start
    app = FastAPI(
        title="abstrakt-queue",
        description="Asynchronous AI media generation: submit a job, poll it, fetch the file.",
        version="0.1.0",
        lifespan=lifespan,
    )
    errors.install(app)
    warn_if_disabled()
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.add_middleware(RateLimitHeaders)
    # Every route but /healthz and /playground needs a key; routes that need its owner ask
    # for it too (the dependency runs once per request either way).
    keyed = [Depends(current_caller)]
    app.include_router(jobs.router, dependencies=keyed)
    app.include_router(batches.router, dependencies=keyed)
    app.include_router(job_events.router, dependencies=keyed)
    app.include_router(models.router, dependencies=keyed)
    app.include_router(providers.router, dependencies=keyed)
    app.include_router(prewarm.router, dependencies=keyed)
    app.include_router(usage.router, dependencies=keyed)
    # OpenAI's shape of the same jobs (videos, images); errors in OpenAI's shape there only.
    app.include_router(openai_videos.router, dependencies=keyed)
    app.include_router(openai_images.router, dependencies=keyed)
    app.include_router(health.router)
    app.include_router(stream.router)  # the key comes in a message or the upgrade's header
    app.include_router(playground.router)  # the page asks for the key its calls send
    settings.storage_dir.mkdir(parents=True, exist_ok=True)
    # Local storage is served here; with object storage the URLs point elsewhere. Files need
    # no key (a page's <video> tag cannot send one): their paths hold unguessable job ids.
    app.mount("/media", StaticFiles(directory=settings.storage_dir), name="media")
    return app
