"""the cost of every job: estimated at creation, actual at its end; usage by owner and time

Revision ID: 2d25437fc990
Revises: d4a7c9b1e352
Create Date: 2026-11-30 11:00:00

Costs are micro-dollars (exact integers on Postgres and SQLite). Jobs created before this
revision keep no cost (NULL): what their models cost then is not known here.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "2d25437fc990"
down_revision: str | None = "d4a7c9b1e352"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("estimated_cost_micros", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("actual_cost_micros", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("cost_basis", sa.String(length=300), nullable=True))
        batch.create_index("ix_jobs_owner_created_at", ["owner", "created_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_owner_created_at")
        batch.drop_column("cost_basis")
        batch.drop_column("actual_cost_micros")
        batch.drop_column("estimated_cost_micros")
