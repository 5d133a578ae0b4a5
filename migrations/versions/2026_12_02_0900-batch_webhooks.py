"""batch webhooks: a batch's URL and signer; a delivery belongs to a job or to a batch

Revision ID: 3d9a6f2c8e14
Revises: b4e2d7a1c958
Create Date: 2026-12-02 09:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "3d9a6f2c8e14"
down_revision: str | None = "b4e2d7a1c958"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

SUBJECT = (
    "(job_id IS NOT NULL AND event_seq IS NOT NULL AND batch_id IS NULL)"
    " OR (job_id IS NULL AND event_seq IS NULL AND batch_id IS NOT NULL)"
)


def upgrade() -> None:
    with op.batch_alter_table("batches") as batch:
        batch.add_column(sa.Column("webhook_url", sa.String(length=2048), nullable=True))
        batch.add_column(sa.Column("webhook_signer", sa.String(length=80), nullable=True))
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.add_column(sa.Column("batch_id", sa.Uuid(), nullable=True))
        batch.alter_column("job_id", existing_type=sa.Uuid(), nullable=True)
        batch.alter_column("event_seq", existing_type=sa.Integer(), nullable=True)
        batch.create_foreign_key(
            "fk_webhook_deliveries_batch_id_batches",
            "batches",
            ["batch_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch.create_unique_constraint(
            "uq_webhook_deliveries_batch_id_event", ["batch_id", "event"]
        )
        batch.create_check_constraint(op.f("ck_webhook_deliveries_subject"), SUBJECT)


def downgrade() -> None:
    # A batch's deliveries have no job to belong to once job_id is required again.
    op.execute("DELETE FROM webhook_deliveries WHERE batch_id IS NOT NULL")
    with op.batch_alter_table("webhook_deliveries") as batch:
        batch.drop_constraint(op.f("ck_webhook_deliveries_subject"), type_="check")
        batch.drop_constraint("uq_webhook_deliveries_batch_id_event", type_="unique")
        batch.drop_constraint("fk_webhook_deliveries_batch_id_batches", type_="foreignkey")
        batch.alter_column("event_seq", existing_type=sa.Integer(), nullable=False)
        batch.alter_column("job_id", existing_type=sa.Uuid(), nullable=False)
        batch.drop_column("batch_id")
    with op.batch_alter_table("batches") as batch:
        batch.drop_column("webhook_signer")
        batch.drop_column("webhook_url")
