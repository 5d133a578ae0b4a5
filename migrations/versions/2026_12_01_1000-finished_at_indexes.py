"""latency stats and metrics find jobs by when they ended

Revision ID: 7c1f4e9a2b30
Revises: 8440e9826c07
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "7c1f4e9a2b30"
down_revision: str | None = "8440e9826c07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.create_index("ix_jobs_owner_finished_at", ["owner", "finished_at"], unique=False)
        batch.create_index("ix_jobs_finished_at", ["finished_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_finished_at")
        batch.drop_index("ix_jobs_owner_finished_at")
