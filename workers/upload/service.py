"""Storing and reading uploads. Functions flush; the caller commits."""

from __future__ import annotations

import io
import tempfile
import uuid
from pathlib import Path

from PIL import Image, UnidentifiedImageError
from sqlalchemy.orm import Session

from workers.errors import InvalidInput, NotFound
from workers.storage import get_storage
from workers.upload.models import Upload

# What an image input may be, by the format the bytes are in (never the name or the header).
FORMATS = {
    "PNG": ("image/png", "png"),
    "JPEG": ("image/jpeg", "jpg"),
    "WEBP": ("image/webp", "webp"),
}


def store(session: Session, *, owner: str, data: bytes) -> Upload:
    """Check `data` is a PNG, JPEG or WebP image and store it; raises `InvalidInput` at
    `file` otherwise (nothing stored)."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.verify()  # a truncated or corrupt file fails here
            kind, (width, height) = image.format, image.size
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise InvalidInput.at("file", msg=f"is not a PNG, JPEG or WebP image ({exc})") from None
    if kind not in FORMATS:
        raise InvalidInput.at("file", msg=f"is a {kind} image; PNG, JPEG or WebP are taken")
    content_type, extension = FORMATS[kind]
    upload_id = uuid.uuid4()
    with tempfile.TemporaryDirectory(prefix="abstrakt-upload-") as workdir:
        path = Path(workdir) / f"{upload_id}.{extension}"
        path.write_bytes(data)
        url = get_storage().put(f"uploads/{upload_id}.{extension}", path)
    upload = Upload(
        id=upload_id,
        owner=owner,
        url=url,
        content_type=content_type,
        size=len(data),
        width=width,
        height=height,
    )
    session.add(upload)
    session.flush()
    return upload


def get(session: Session, upload_id: uuid.UUID, *, owner: str) -> Upload:
    upload = session.get(Upload, upload_id)
    if upload is None or upload.owner != owner:
        raise NotFound(f"no file with id {upload_id}")
    return upload
