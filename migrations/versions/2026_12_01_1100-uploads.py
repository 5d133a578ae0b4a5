"""uploads: images a caller uploads to start from

Revision ID: a81d5c3e9f02
Revises: 7c3e9a1f4b26
Create Date: 2026-12-01 11:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from workers.db.base import UTCDateTime

revision: str = "a81d5c3e9f02"
down_revision: str | None = "7c3e9a1f4b26"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "uploads",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("owner", sa.String(length=64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_uploads_owner_created_at", "uploads", ["owner", "created_at"])


def downgrade() -> None:
    op.drop_index("ix_uploads_owner_created_at", table_name="uploads")
    op.drop_table("uploads")
