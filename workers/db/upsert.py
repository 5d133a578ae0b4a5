"""`INSERT … ON CONFLICT` on whichever database the session talks to.

Postgres and SQLite both have it, through different SQLAlchemy constructs; races between
processes are decided by a unique row, so every upsert in the project goes through here.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert(session: Session, table: Any) -> Any:
    """An insert for `table` (a model class) that supports `on_conflict_do_*`."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
