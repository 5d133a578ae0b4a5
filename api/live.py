"""The process's live hub: started with the app, stopped with it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request, WebSocket

from workers.job.live.hub import Hub
from workers.settings import get_settings


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    settings = get_settings()
    hub = Hub(redis_url=settings.live_redis_url, catchup_s=settings.live_catchup_s)
    await hub.start()
    app.state.hub = hub
    try:
        yield
    finally:
        await hub.close()


def hub_of(connection: Request | WebSocket) -> Hub:
    hub: Hub = connection.app.state.hub
    return hub
