"""The API server's start-up objects, kept out of the cyclic garbage collector's way.

An API process that holds many WebSocket connections grows a heap of a few hundred thousand
objects, and each full collection (generation 2, which Python starts whenever the objects
that survived collections have grown by a quarter) walks all of them while the event loop
waits: 90–300 ms with 1,000 connections, which every event in flight then waits out (bench
case 7). The modules, routes and settings loaded at start-up never become garbage, so once
the app has started they are frozen (`gc.freeze()`): later collections walk only what was
made since. Garbage made before the freeze is collected first, so none of it is kept.
"""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager

from fastapi import FastAPI

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[None]]


def freezing_start_up(lifespan: Lifespan) -> Lifespan:
    """`lifespan`, then the start-up heap frozen before the first request is served."""

    @asynccontextmanager
    async def frozen(app: FastAPI) -> AsyncIterator[None]:
        async with lifespan(app):
            gc.collect()
            gc.freeze()
            yield

    return frozen
