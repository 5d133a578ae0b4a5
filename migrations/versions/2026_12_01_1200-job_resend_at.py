"""a queued job's message is presumed lost, and sent again, after resend_at

Revision ID: 7c41e9d0b2a6
Revises: a81d5c3e9f02
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import workers.db.base

revision: str = "7c41e9d0b2a6"
down_revision: str | None = "a81d5c3e9f02"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("resend_at", workers.db.base.UTCDateTime(timezone=True), nullable=True)
        )
        batch.create_index("ix_jobs_status_resend_at", ["status", "resend_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_status_resend_at")
        batch.drop_column("resend_at")
