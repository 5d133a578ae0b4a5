"""result cache and pre-generation

Revision ID: a3c9e1f05b7d
Revises: 8d2e3f4a5b6c
Create Date: 2026-11-25 07:45:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import workers.db.base

revision: str = "a3c9e1f05b7d"
down_revision: str | None = "8d2e3f4a5b6c"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON = sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql")
TIME = workers.db.base.UTCDateTime(timezone=True)
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(
            sa.Column("source", sa.String(length=16), nullable=False, server_default="request")
        )
        batch.add_column(sa.Column("cache_key", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("cache_scope", sa.String(length=100), nullable=True))
        batch.add_column(
            sa.Column("cache_hit", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("joined_job_id", sa.Uuid(), nullable=True))
        batch.create_check_constraint("source", "source IN ('request', 'prewarm')")
        batch.create_index("ix_jobs_joined_job_id", ["joined_job_id"], unique=False)
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column("source", server_default=None)
        batch.alter_column("cache_hit", server_default=None)

    op.create_table(
        "cache_entries",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("key", sa.String(length=64), nullable=False),
        sa.Column("scope", sa.String(length=100), nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("input", JSON, nullable=False),
        sa.Column("result", JSON, nullable=True),
        sa.Column("result_job_id", sa.Uuid(), nullable=True),
        sa.Column("expires_at", TIME, nullable=True),
        sa.Column("leader_job_id", sa.Uuid(), nullable=True),
        sa.Column("leader_since", TIME, nullable=True),
        sa.Column("created_at", TIME, nullable=False),
        sa.Column("refreshed_at", TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_cache_entries")),
        sa.UniqueConstraint("key", "scope", name=op.f("uq_cache_entries_key_scope")),
    )
    op.create_index(
        "ix_cache_entries_leader_job_id", "cache_entries", ["leader_job_id"], unique=False
    )
    op.create_table(
        "prewarm_prompts",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("model", sa.String(length=200), nullable=False),
        sa.Column("input", JSON, nullable=False),
        sa.Column("cache_key", sa.String(length=64), nullable=False),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("created_at", TIME, nullable=False),
        sa.CheckConstraint("origin IN ('manual', 'auto')", name=op.f("ck_prewarm_prompts_origin")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_prewarm_prompts")),
        sa.UniqueConstraint("cache_key", name=op.f("uq_prewarm_prompts_cache_key")),
    )
    op.create_table(
        "prewarm_runs",
        sa.Column("slot", TIME, nullable=False),
        sa.Column("started_at", TIME, nullable=False),
        sa.Column("jobs_started", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("slot", name=op.f("pk_prewarm_runs")),
    )


def downgrade() -> None:
    op.drop_table("prewarm_runs")
    op.drop_table("prewarm_prompts")
    op.drop_index("ix_cache_entries_leader_job_id", table_name="cache_entries")
    op.drop_table("cache_entries")
    with op.batch_alter_table("jobs") as batch:
        batch.drop_index("ix_jobs_joined_job_id")
        batch.drop_constraint("ck_jobs_source", type_="check")
        for column in ("joined_job_id", "cache_hit", "cache_scope", "cache_key", "source"):
            batch.drop_column(column)
