"""`/healthz` (every dependency, for people and monitors) and `/readyz` (the database only,
for load balancers). Neither needs a key; each check is bounded by `HEALTH_CHECK_TIMEOUT_S`,
so a hung dependency is reported as down instead of hanging the probe."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import anyio
from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from workers import health
from workers.settings import get_settings

router = APIRouter(tags=["health"])


class Check(BaseModel):
    ok: bool
    ms: int
    error: str | None = None


class Health(BaseModel):
    status: str  # "ok" or "unavailable"
    checks: dict[str, Check]
    detail: str | None = None  # set when a check failed: which dependency is down


RESPONSES: dict[int | str, dict[str, Any]] = {
    503: {"model": Health, "description": "A dependency is down (named in `detail`)."}
}


async def _run(check: Callable[[], None]) -> Check:
    started = time.monotonic()
    timeout = get_settings().health_check_timeout_s
    try:
        # A check stuck in a blocking call is left behind in its thread, not waited for.
        with anyio.fail_after(timeout):
            await anyio.to_thread.run_sync(check, abandon_on_cancel=True)
    except TimeoutError:
        return Check(ok=False, ms=round(timeout * 1000), error=f"timed out after {timeout:g} s")
    except Exception as exc:
        return Check(ok=False, ms=_ms(started), error=health.describe(exc))
    return Check(ok=True, ms=_ms(started))


def _ms(started: float) -> int:
    return round((time.monotonic() - started) * 1000)


async def _report(names: tuple[str, ...]) -> JSONResponse:
    checks: dict[str, Check] = {}

    async def one(name: str) -> None:
        checks[name] = await _run(health.CHECKS[name])

    async with anyio.create_task_group() as group:
        for name in names:
            group.start_soon(one, name)
    down = [name for name in names if not checks[name].ok]
    report = Health(
        status="unavailable" if down else "ok",
        checks={name: checks[name] for name in names},
        detail=f"unavailable: {', '.join(down)}" if down else None,
    )
    if not down:
        return JSONResponse(report.model_dump(exclude_none=True))
    retry_after = str(get_settings().retry_after_s)
    return JSONResponse(
        report.model_dump(exclude_none=True), status_code=503, headers={"Retry-After": retry_after}
    )


@router.get("/healthz", response_model=Health, responses=RESPONSES)
async def healthz() -> JSONResponse:
    """Each dependency (database, broker, storage) with whether it answered and how fast;
    503 when any is down."""
    return await _report(("database", "broker", "storage"))


@router.get("/readyz", response_model=Health, responses=RESPONSES)
async def readyz() -> JSONResponse:
    """Whether this process can serve requests: the database answers. 503 otherwise."""
    return await _report(("database",))
