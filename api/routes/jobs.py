from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field
from sqlalchemy.orm import Session

from api.auth import current_caller
from api.deps import db_session
from workers.job import producer
from workers.job.reader import read_job
from workers.job.schemas import JobCreate, JobRead
from workers.key.caller import Caller

router = APIRouter(prefix="/v1/jobs", tags=["jobs"])


class JobAccepted(BaseModel):
    id: uuid.UUID
    status: str
    urls: dict[str, str]
    cache_hit: bool = False
    result: dict[str, Any] | None = None  # set when the job is already done (a cache hit)
    model: str | None = Field(
        default=None, description="The model that makes the job: the one named, or auto's."
    )
    auto_choice: dict[str, Any] | None = Field(
        default=None,
        description='"model": "auto" only: the model picked and why (also `X-Model-Chosen`).',
    )


def _urls(request: Request, job_id: uuid.UUID) -> dict[str, str]:
    return {"get": str(request.url_for("get_job", job_id=job_id))}


@router.post("", status_code=202, response_model=JobAccepted)
def create_job(
    body: JobCreate,
    request: Request,
    response: Response,
    caller: Annotated[Caller, Depends(current_caller)],
) -> Any:
    """Accept a job and answer at once; the work happens on a worker.

    An `idempotency_key` seen before returns that job (200) instead of making another. A
    cache hit is created already succeeded, with its result (201). A key at its cap of jobs
    in flight gets 429, one whose budget the job would pass 402.
    """
    accepted = producer.submit(body, caller=caller)
    if not accepted.created:
        response.status_code = 200
    elif accepted.cache_hit:
        response.status_code = 201
    urls = _urls(request, accepted.id)
    response.headers["Location"] = urls["get"]
    if accepted.auto_choice is not None:
        response.headers["X-Model-Chosen"] = accepted.model
    return JobAccepted(
        id=accepted.id,
        status=accepted.status,
        urls=urls,
        cache_hit=accepted.cache_hit,
        result=accepted.result,
        model=accepted.model or None,
        auto_choice=accepted.auto_choice,
    )


@router.get("/{job_id}", response_model=JobRead, name="get_job")
def get_job(
    job_id: uuid.UUID,
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
) -> JobRead:
    """A job of this key's owner; another owner's job is 404, as an unknown id."""
    return read_job(session, job_id, owner=caller.owner)


class JobCanceled(BaseModel):
    id: uuid.UUID
    status: str


@router.post("/{job_id}/cancel", response_model=JobCanceled)
def cancel_job(
    job_id: uuid.UUID, caller: Annotated[Caller, Depends(current_caller)]
) -> JobCanceled:
    """Cancel a queued or running job, at the provider too; a finished job answers 409."""
    canceled = producer.cancel(job_id, owner=caller.owner)
    return JobCanceled(id=canceled.job_id, status=canceled.status)
