"""each pre-generation list item belongs to an owner

Revision ID: d4a7c9b1e352
Revises: c1f5a8e3d240
Create Date: 2026-11-30 11:00:00

Items listed before keys existed were the deployment's own list: they go to `prewarm`.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "d4a7c9b1e352"
down_revision: str | None = "c1f5a8e3d240"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("prewarm_prompts") as batch:
        batch.add_column(
            sa.Column("owner", sa.String(length=64), nullable=False, server_default="prewarm")
        )
        batch.drop_constraint("uq_prewarm_prompts_cache_key", type_="unique")
        batch.create_unique_constraint("uq_prewarm_prompts_owner_cache_key", ["owner", "cache_key"])


def downgrade() -> None:
    with op.batch_alter_table("prewarm_prompts") as batch:
        batch.drop_constraint("uq_prewarm_prompts_owner_cache_key", type_="unique")
        batch.create_unique_constraint("uq_prewarm_prompts_cache_key", ["cache_key"])
        batch.drop_column("owner")
