"""p50, p90 and p99 per group, computed by the database: `percentile_cont` on Postgres, the
same interpolation from `row_number()` and `count()` window functions on SQLite (which has
no percentile function). Either way only one row per group comes back to Python."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import Integer, Subquery, case, cast, func, select
from sqlalchemy.orm import Session

from workers.stats.dims import is_postgres

QUANTILES: tuple[tuple[str, float], ...] = (("p50", 0.5), ("p90", 0.9), ("p99", 0.99))


def by_group(session: Session, values: Subquery, keys: Sequence[str]) -> Sequence[Any]:
    """Rows of (*keys, n, p50, p90, p99) over `values.c.v`, one per distinct `keys`.

    Both paths compute `percentile_cont`: the value at position 1 + q·(n − 1) of the sorted
    values, interpolated linearly between its two neighbours."""
    if is_postgres(session):
        group = [values.c[key] for key in keys]
        rows: Sequence[Any] = session.execute(
            select(
                *group,
                func.count().label("n"),
                *(
                    func.percentile_cont(q).within_group(values.c.v).label(name)
                    for name, q in QUANTILES
                ),
            ).group_by(*group)
        ).all()
        return rows
    partition = [values.c[key] for key in keys]
    ranked = select(
        *partition,
        values.c.v,
        func.row_number().over(partition_by=partition, order_by=values.c.v).label("rn"),
        func.count().over(partition_by=partition).label("n"),
    ).subquery()
    group = [ranked.c[key] for key in keys]
    columns = []
    for name, q in QUANTILES:
        position = (ranked.c.n - 1) * q  # 0-based, real
        below = cast(position, Integer)  # floor, as position >= 0
        fraction = position - below
        lower = func.sum(case((ranked.c.rn == below + 1, ranked.c.v * (1 - fraction))))
        upper = func.sum(case((ranked.c.rn == below + 2, ranked.c.v * fraction)))
        columns.append((func.coalesce(lower, 0) + func.coalesce(upper, 0)).label(name))
    interpolated: Sequence[Any] = session.execute(
        select(*group, func.max(ranked.c.n).label("n"), *columns).group_by(*group)
    ).all()
    return interpolated
