from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends
from sqlalchemy import text
from sqlalchemy.orm import Session

from api.deps import db_session

router = APIRouter(tags=["health"])


@router.get("/healthz")
def healthz(session: Annotated[Session, Depends(db_session)]) -> dict[str, str]:
    """Alive and able to reach the database."""
    session.execute(text("SELECT 1"))
    return {"status": "ok"}
