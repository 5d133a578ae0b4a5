"""hosted provider columns on jobs

Revision ID: 7c1d2e3f4a5b
Revises: 40b2da922b67
Create Date: 2026-11-25 07:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import workers.db.base

revision: str = "7c1d2e3f4a5b"
down_revision: str | None = "40b2da922b67"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIME = workers.db.base.UTCDateTime(timezone=True)


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("provider", sa.String(length=32), nullable=False, server_default="local")
        )
        batch.add_column(sa.Column("submit_state", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("provider_request_id", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("provider_handles", JSON, nullable=True))
        batch.add_column(sa.Column("remote", JSON, nullable=True))
        batch.add_column(sa.Column("next_poll_at", TIME, nullable=True))
        batch.add_column(sa.Column("poll_lease_until", TIME, nullable=True))
        batch.add_column(sa.Column("phase_mark_at", TIME, nullable=True))
        batch.create_index(
            "ix_jobs_submit_state_next_poll_at", ["submit_state", "next_poll_at"], unique=False
        )
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column("provider", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_submit_state_next_poll_at")
        for column in (
            "phase_mark_at",
            "poll_lease_until",
            "next_poll_at",
            "remote",
            "provider_handles",
            "provider_request_id",
            "submit_state",
            "provider",
        ):
            batch.drop_column(column)
