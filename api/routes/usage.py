"""What the key owner's jobs made and cost: counts, seconds of video, images and spend."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from fastapi.exceptions import RequestValidationError
from sqlalchemy.orm import Session

from api.auth import current_caller
from api.deps import db_session
from workers.db.base import utcnow
from workers.job import usage as job_usage
from workers.job.schemas import Usage
from workers.key.caller import Caller

router = APIRouter(prefix="/v1/usage", tags=["usage"])


@router.get("", response_model=Usage)
def get_usage(
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
    start: Annotated[
        str | None,
        Query(
            alias="from",
            description="Inclusive: a date (2026-11-01, from its UTC midnight) or an ISO 8601 "
            "time. Default: 30 days before `to`.",
        ),
    ] = None,
    end: Annotated[
        str | None,
        Query(
            alias="to",
            description="Exclusive: an ISO 8601 time, or a date, which includes that whole "
            "UTC day. Default: now.",
        ),
    ] = None,
    group_by: Annotated[
        job_usage.GroupBy, Query(description="One row per model, or per UTC day.")
    ] = "model",
) -> Usage:
    """Jobs created in the window, one row per model or day with jobs, and their total:
    jobs by outcome, seconds of video and images generated, spend (actual cost of the
    ended jobs) and pending (estimated cost of the others). Summed by the database."""
    try:
        begin, stop = job_usage.window(start, end, utcnow())
    except job_usage.BadWindow as exc:
        raise RequestValidationError(
            [
                {
                    "type": "value_error",
                    "loc": ("query", exc.field),
                    "msg": exc.message,
                    "input": start if exc.field == "from" else end,
                }
            ]
        ) from None
    return job_usage.usage(session, owner=caller.owner, start=begin, end=stop, group_by=group_by)
