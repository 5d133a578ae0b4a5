"""a preview job points at the video job it previews

Revision ID: e5b8d2a7c013
Revises: 2d25437fc990
Create Date: 2026-11-30 13:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "e5b8d2a7c013"
down_revision: str | None = "2d25437fc990"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("parent_job_id", sa.Uuid(), nullable=True))
        batch.create_index("ix_jobs_parent_job_id", ["parent_job_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_parent_job_id")
        batch.drop_column("parent_job_id")
