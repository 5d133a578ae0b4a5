"""OpenAI's Videos API over our jobs: `POST /v1/videos`, `GET /v1/videos[/{id}]`,
`DELETE /v1/videos/{id}`, `GET /v1/videos/{id}/content`.

A view, not a second system: creating goes through the one producer with the caller's key
(its rate, in-flight cap and budget, the cache and single flight), and the id is the job's,
also readable at `GET /v1/jobs/{id}` with its phases and cost.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

import anyio.to_thread
from fastapi import APIRouter, Depends, Query, Request, Response
from fastapi.responses import FileResponse
from sqlalchemy.orm import Session

from api.auth import current_caller
from api.deps import db_session
from api.openai_body import request_fields
from api.openai_errors import OpenAIRoute
from workers.db.engine import session_scope
from workers.errors import Conflict
from workers.job import producer
from workers.job.views import openai_video
from workers.job.views.openai_request import video_request
from workers.key.caller import Caller

router = APIRouter(prefix="/v1/videos", tags=["openai"], route_class=OpenAIRoute)


@router.post("")
async def create_video(
    request: Request, caller: Annotated[Caller, Depends(current_caller)]
) -> dict[str, Any]:
    """Start a video (JSON or form: `model`, `prompt`, `seconds`, `size`); answers the video
    object at once, `completed` already when the cache had it. An `Idempotency-Key` header
    returns the video made with it before."""
    fields = await request_fields(request)
    job = video_request(fields, idempotency_key=request.headers.get("idempotency-key"))
    accepted = await anyio.to_thread.run_sync(lambda: producer.submit(job, caller=caller))

    def read() -> dict[str, Any]:
        with session_scope() as session:
            found = openai_video.get_video(session, str(accepted.id), owner=caller.owner)
            return openai_video.video_object(session, found)

    return await anyio.to_thread.run_sync(read)


@router.get("")
def list_videos(
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
    after: Annotated[str | None, Query(description="The previous page's last_id.")] = None,
    limit: Annotated[int, Query(ge=1, le=100)] = 20,
    order: Annotated[Literal["asc", "desc"], Query()] = "desc",
) -> dict[str, Any]:
    """The caller's videos (every video job of its owner), newest first."""
    return openai_video.list_videos(
        session, owner=caller.owner, after=after, limit=limit, order=order
    )


@router.get("/{video_id}")
def get_video(
    video_id: str,
    response: Response,
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
) -> dict[str, Any]:
    job = openai_video.get_video(session, video_id, owner=caller.owner)
    video = openai_video.video_object(session, job)
    if video["status"] in ("queued", "in_progress"):
        response.headers["openai-poll-after-ms"] = str(openai_video.poll_after_ms(job))
    return video


@router.delete("/{video_id}")
def delete_video(video_id: str, caller: Annotated[Caller, Depends(current_caller)]) -> Any:
    """Cancel an unfinished video (at its provider too): `deleted: true`. A finished video
    is kept (its file may serve the result cache and identical jobs): `deleted: false`."""
    with session_scope() as session:
        job = openai_video.get_video(session, video_id, owner=caller.owner)
        finished = job.job_status.is_terminal
    deleted = False
    if not finished:
        try:
            producer.cancel(job.id, owner=caller.owner)
            deleted = True
        except Conflict:  # it finished meanwhile
            pass
    return {"id": str(job.id), "object": "video.deleted", "deleted": deleted}


@router.get("/{video_id}/content", response_class=FileResponse)
def video_content(
    video_id: str,
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
    variant: Annotated[str, Query()] = "video",
) -> Response:
    """The MP4 (`variant=video`) or its poster frame (`thumbnail`), once completed."""
    job = openai_video.get_video(session, video_id, owner=caller.owner)
    found, content_type = openai_video.content_file(job, variant)
    if isinstance(found, bytes):  # from object storage
        return Response(found, media_type=content_type)
    return FileResponse(found, media_type=content_type, filename=f"{job.id}{found.suffix}")
