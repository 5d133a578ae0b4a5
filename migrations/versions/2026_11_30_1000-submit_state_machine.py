"""submit_state is an enum with a check constraint; the intent time is a column

Revision ID: b7e4d2c19a60
Revises: a3c9e1f05b7d
Create Date: 2026-11-30 10:00:00

Before this revision the time a hosted attempt committed its intent to submit lived as an
ISO string inside the `remote` JSON blob; it is copied into `intent_at` and removed there.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

import workers.db.base

revision: str = "b7e4d2c19a60"
down_revision: str | None = "a3c9e1f05b7d"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIME = workers.db.base.UTCDateTime(timezone=True)
JSON = workers.db.base.JSONType

jobs = sa.table(
    "jobs",
    sa.column("id", sa.Uuid()),
    sa.column("submit_state", sa.String()),
    sa.column("remote", JSON),
    sa.column("intent_at", TIME),
)


def upgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.add_column(sa.Column("intent_at", TIME, nullable=True))
        batch.create_check_constraint(
            "submit_state", "submit_state IN ('intent', 'submitted', 'completed')"
        )
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(jobs.c.id, jobs.c.remote).where(jobs.c.submit_state == "intent")
    ).all()
    for job_id, remote in rows:
        stamp = (remote or {}).get("intent_at")
        intent_at = datetime.fromisoformat(stamp) if isinstance(stamp, str) else None
        conn.execute(
            sa.update(jobs).where(jobs.c.id == job_id).values(intent_at=intent_at, remote=None)
        )


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(
        sa.select(jobs.c.id, jobs.c.intent_at).where(jobs.c.submit_state == "intent")
    ).all()
    for job_id, intent_at in rows:
        remote = {"intent_at": intent_at.isoformat()} if intent_at else None
        conn.execute(sa.update(jobs).where(jobs.c.id == job_id).values(remote=remote))
    with op.batch_alter_table("jobs") as batch:
        batch.drop_constraint("ck_jobs_submit_state", type_="check")
        batch.drop_column("intent_at")
