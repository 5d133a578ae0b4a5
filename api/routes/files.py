"""Uploads: an image to start from, for the models that take an `image_url`."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Depends, UploadFile
from pydantic import BaseModel
from sqlalchemy.orm import Session

from api.auth import current_caller
from api.deps import db_session
from workers.key.caller import Caller
from workers.upload import service
from workers.upload.models import Upload

router = APIRouter(prefix="/v1/files", tags=["files"])


class FileRead(BaseModel):
    id: uuid.UUID
    url: str
    content_type: str
    size: int
    width: int
    height: int
    created_at: datetime

    @classmethod
    def of(cls, upload: Upload) -> FileRead:
        return cls(
            id=upload.id,
            url=upload.url,
            content_type=upload.content_type,
            size=upload.size,
            width=upload.width,
            height=upload.height,
            created_at=upload.created_at,
        )


@router.post("", status_code=201, response_model=FileRead)
def upload_file(
    file: UploadFile,
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
) -> FileRead:
    """Upload a PNG, JPEG or WebP image (multipart field `file`, at most `MAX_UPLOAD_BYTES`);
    its `url` is then accepted as an `image_url`. The type is read from the bytes."""
    return FileRead.of(service.store(session, owner=caller.owner, data=file.file.read()))


@router.get("/{file_id}", response_model=FileRead)
def get_file(
    file_id: uuid.UUID,
    session: Annotated[Session, Depends(db_session)],
    caller: Annotated[Caller, Depends(current_caller)],
) -> FileRead:
    return FileRead.of(service.get(session, file_id, owner=caller.owner))
