"""The key owner's latency statistics, computed by the database."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from api.auth import current_caller
from api.deps import db_session
from workers.db.base import utcnow
from workers.key.caller import Caller
from workers.stats import activity as dashboard
from workers.stats import latency as stats
from workers.stats.schemas import Activity, LatencyStats

router = APIRouter(prefix="/v1/stats", tags=["stats"])


@router.get("/latency", response_model=LatencyStats, response_model_by_alias=True)
def get_latency(
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
    window: Annotated[
        str, Query(description="How far back from now: 30m, 24h, 7d (at most 366d).")
    ] = "24h",
    group_by: Annotated[
        str,
        Query(description="Comma-separated: model, duration, resolution, provider."),
    ] = "model",
) -> LatencyStats:
    """The caller's jobs that ended in the window, per group: how many, how they ended, the
    error rate, and p50/p90/p99 of the end-to-end time and of each phase of the jobs that
    succeeded by generating."""
    try:
        names = stats.parse_group_by(group_by)
        return stats.latency(
            session, owner=caller.owner, now=utcnow(), window=window, group_by=names
        )
    except stats.BadParameter as exc:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", exc.field),
                    "msg": exc.message,
                    "input": window if exc.field == "window" else group_by,
                }
            ]
        ) from None


@router.get("/activity", response_model=Activity, response_model_by_alias=True)
def get_activity(
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
    window: Annotated[
        str, Query(description="How far back from now: 30m, 24h, 7d (at most 366d).")
    ] = "1h",
    buckets: Annotated[int, Query(ge=1, le=dashboard.MAX_BUCKETS)] = 30,
) -> Activity:
    """The caller's jobs over time (the dashboard's charts): jobs ended per bucket, how they
    ended and how many came from the cache; the window's cache hit rate; the jobs queued
    and running now, with their phase and progress."""
    try:
        return dashboard.activity(
            session, owner=caller.owner, now=utcnow(), window=window, buckets=buckets
        )
    except stats.BadParameter as exc:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", exc.field),
                    "msg": exc.message,
                    "input": window,
                }
            ]
        ) from None
