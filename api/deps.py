"""Request-scoped dependencies: the request owns its transaction."""

from __future__ import annotations

from collections.abc import Iterator

from sqlalchemy.orm import Session

from workers.db.engine import session_scope


def db_session() -> Iterator[Session]:
    with session_scope() as session:
        yield session
