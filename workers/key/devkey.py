"""The development key: made by `up` on first start and kept in VAR_DIR, so the README's
examples work by copy and paste on a fresh clone. Never used by production roles."""

from __future__ import annotations

import logging
import secrets
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from workers.db.engine import session_scope
from workers.key import service
from workers.key.caller import ANONYMOUS
from workers.key.models import ApiKey
from workers.settings import get_settings

log = logging.getLogger(__name__)


def path() -> Path:
    return get_settings().var_dir / "dev-api-key"


def read() -> str | None:
    file = path()
    return file.read_text().strip() if file.exists() else None


def ensure() -> tuple[str, bool]:
    """The development key, and whether it was made now (the file was missing or its key
    no longer works)."""
    token = read()
    if token and service.authenticate(token) is not None:
        return token, False
    with session_scope() as session:
        # A second checkout on the same database gets a key of its own.
        name = "dev" if not _taken(session, "dev") else f"dev-{secrets.token_hex(3)}"
        _, token = service.create(session, name=name, owner=ANONYMOUS.owner)
    file = path()
    file.parent.mkdir(parents=True, exist_ok=True)
    file.write_text(token + "\n")
    file.chmod(0o600)
    log.info("key.dev_key_created name=%s file=%s", name, file)
    return token, True


def _taken(session: Session, name: str) -> bool:
    return session.scalar(select(ApiKey.id).where(ApiKey.name == name)) is not None
