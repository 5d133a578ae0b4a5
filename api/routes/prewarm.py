"""The pre-generation list: prompts kept fresh in the shared cache by the beat schedule."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Path, Response
from sqlalchemy.orm import Session

from api.auth import current_caller
from api.deps import db_session
from workers.db.base import INT64_MAX, utcnow
from workers.key.caller import Caller
from workers.prewarm import service
from workers.prewarm.schemas import PrewarmCreate, PrewarmRead

router = APIRouter(prefix="/v1/prewarm", tags=["prewarm"])
DbSession = Annotated[Session, Depends(db_session)]
Owner = Annotated[Caller, Depends(current_caller)]


@router.get("", response_model=list[PrewarmRead])
def list_prewarm(session: DbSession, caller: Owner) -> list[PrewarmRead]:
    """This key's listed prompts, each with its shared cache entry's state (fresh, …)."""
    return service.list_prompts(session, utcnow(), owner=caller.owner)


@router.post("", status_code=201, response_model=PrewarmRead)
def add_prewarm(
    body: PrewarmCreate, response: Response, session: DbSession, caller: Owner
) -> PrewarmRead:
    """List a prompt (validated like POST /v1/jobs: 422 names the field). A request that
    means the same as a listed one returns that one (200)."""
    added = service.add(session, body, owner=caller.owner)
    if not added.created:
        response.status_code = 200
    return service.read(session, added.prompt, utcnow())


@router.delete("/{prompt_id}", status_code=204)
def remove_prewarm(
    prompt_id: Annotated[int, Path(ge=1, le=INT64_MAX)], session: DbSession, caller: Owner
) -> Response:
    """Unlist one of this key's prompts; its cached result stays until it expires."""
    service.remove(session, prompt_id, owner=caller.owner)
    return Response(status_code=204)
