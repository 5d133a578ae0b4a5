"""The FastAPI application factory."""

from __future__ import annotations

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles

from api import errors
from api.routes import health, jobs, models, prewarm, providers, usage
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
    )
    errors.install(app)
    app.include_router(jobs.router)
    app.include_router(models.router)
    app.include_router(providers.router)
    app.include_router(prewarm.router)
    app.include_router(usage.router)
    app.include_router(health.router)
    settings.storage_dir.mkdir(parents=True, exist_ok=True)
    # Local storage is served here; with object storage the URLs point elsewhere.
    app.mount("/media", StaticFiles(directory=settings.storage_dir), name="media")
    return app
