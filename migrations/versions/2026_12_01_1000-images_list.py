"""results in one shape: an image result is a list, `{"images": [...]}`, never `{"image": ...}`

Rewrites stored jobs' results, cache entries and the `result` of logged events (which live
streams replay). Data only; the schema does not change.

Revision ID: 7c3e9a1f4b26
Revises: 8440e9826c07
Create Date: 2026-12-01 10:00:00
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision: str = "7c3e9a1f4b26"
down_revision: str | None = "8440e9826c07"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 500
JSON = sa.JSON().with_variant(JSONB(), "postgresql")


def _to_list(result: Any) -> Any:
    if isinstance(result, dict) and "image" in result and "images" not in result:
        rest = {k: v for k, v in result.items() if k != "image"}
        return {**rest, "images": [result["image"]]}
    return result


def _to_single(result: Any) -> Any:
    images = result.get("images") if isinstance(result, dict) else None
    if isinstance(images, list) and images:
        rest = {k: v for k, v in result.items() if k != "images"}
        return {**rest, "image": images[0]}
    return result


def _in_payload(change: Callable[[Any], Any]) -> Callable[[Any], Any]:
    def apply(payload: Any) -> Any:
        if isinstance(payload, dict) and "result" in payload:
            return {**payload, "result": change(payload["result"])}
        return payload

    return apply


def _rewrite(table: str, key: str, column: str, marker: str, change: Callable[[Any], Any]) -> None:
    """Every row whose `column` mentions `marker`, rewritten by `change`, in batches."""
    rows = sa.table(table, sa.column(key), sa.column(column, JSON))
    bind = op.get_bind()
    last: Any = None
    while True:
        query = (
            sa.select(rows.c[key], rows.c[column])
            .where(sa.cast(rows.c[column], sa.Text).like(f'%"{marker}"%'))
            .order_by(rows.c[key])
            .limit(BATCH)
        )
        if last is not None:
            query = query.where(rows.c[key] > last)
        found = bind.execute(query).all()
        for row_key, value in found:
            changed = change(value)
            if changed != value:
                bind.execute(rows.update().where(rows.c[key] == row_key).values({column: changed}))
        if len(found) < BATCH:
            return
        last = found[-1][0]


def upgrade() -> None:
    _rewrite("jobs", "id", "result", "image", _to_list)
    _rewrite("cache_entries", "id", "result", "image", _to_list)
    _rewrite("job_events", "id", "payload", "image", _in_payload(_to_list))


def downgrade() -> None:
    _rewrite("jobs", "id", "result", "images", _to_single)
    _rewrite("cache_entries", "id", "result", "images", _to_single)
    _rewrite("job_events", "id", "payload", "images", _in_payload(_to_single))
