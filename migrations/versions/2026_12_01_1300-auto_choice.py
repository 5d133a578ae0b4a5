"""jobs record which model `"model": "auto"` picked, and why; joins the stats' indexes
and main's into one head

Revision ID: b4e2d7a1c958
Revises: 7c41e9d0b2a6, 7c1f4e9a2b30
Create Date: 2026-12-01 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from workers.db.base import JSONType

revision: str = "b4e2d7a1c958"
down_revision: str | tuple[str, ...] | None = ("7c41e9d0b2a6", "7c1f4e9a2b30")
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("auto_choice", JSONType, nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_column("auto_choice")
